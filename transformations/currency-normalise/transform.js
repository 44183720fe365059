// currency-normalise: report every amount in US dollars.
//
// - `properties.revenue`, `properties.value`, `properties.price` and each
//   `properties.products[*].price` are converted from `properties.currency` to USD with the fixed
//   rate table of the `currency` library and rounded to cents.
// - The original of each converted field is kept next to it as `original_<field>` (for example
//   `original_value`, `original_revenue`, and `original_price` inside each product), the original
//   code (upper-cased: " eur " gives "EUR") as `properties.original_currency`, and `properties.currency` becomes "USD".
// - No currency (missing, null or "") means USD, as in the RudderStack e-commerce spec: nothing
//   changes. A USD event is not touched either.
// - An unknown currency (not a three-letter code of the table, or not a string) throws
//   UnknownCurrencyError, so that event fails alone and the rest of the batch goes through.
// - An amount that is neither a number nor a plain decimal string ("12.50") is left as it is and
//   logged; null amounts are ignored.
import { usdRate, normaliseCode, parseAmount, toUSD } from "currency";

const AMOUNT_FIELDS = ["revenue", "value", "price"];

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const messageIdOf = (event) => (typeof event.messageId === "string" ? event.messageId : "(no messageId)");

/** Converts object[field] in place; returns true when it did. */
function convertField(object, field, currency, path, notes) {
  if (!has(object, field) || object[field] === null) return false;
  const original = object[field];
  if (parseAmount(original) === null) {
    notes.push(`${path}.${field} is not an amount, left as is`);
    return false;
  }
  object[field] = toUSD(original, currency);
  object[`original_${field}`] = original;
  return true;
}

export function transformEvent(event, metadata) {
  const properties = event.properties;
  if (!isPlainObject(properties)) return event;
  const currency = properties.currency;
  if (currency === undefined || currency === null || currency === "") return event;
  usdRate(currency); // throws UnknownCurrencyError before anything is changed
  const code = normaliseCode(currency);
  if (code === "USD") return event;

  const notes = [];
  let converted = 0;
  for (const field of AMOUNT_FIELDS) {
    if (convertField(properties, field, code, "properties", notes)) converted++;
  }
  if (Array.isArray(properties.products)) {
    properties.products.forEach((product, index) => {
      if (isPlainObject(product) && convertField(product, "price", code, `properties.products[${index}]`, notes)) converted++;
    });
  }
  if (converted > 0) {
    properties.original_currency = code;
    properties.currency = "USD";
    notes.push(`converted ${converted} amount${converted === 1 ? "" : "s"} from ${code} to USD`);
  }
  for (const note of notes) log(`currency-normalise: ${messageIdOf(event)}: ${note}`);
  return event;
}
