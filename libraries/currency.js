// currency: a fixed table of USD exchange rates and conversion to USD, rounded to cents.
// The Python twin is currency.py; both give the same numbers for the same input.
//
//   import { toUSD, usdRate, parseAmount } from "currency";
//   toUSD(100, "EUR")     // 108.5
//   toUSD("1999", "JPY")  // 13.39
//   toUSD(5, "XYZ")       // throws UnknownCurrencyError: unknown currency "XYZ"
//
// The rates are reference rates (US dollars per one unit of the currency) frozen in this file so
// that a transformation gives the same output on every run; there is no network access, so they
// are not live. Update the table (and the snapshot cases) when they drift too far.
//
// Rounding is exactly `Math.round(x * 100) / 100`
// (ties go towards +infinity), and currency.py reproduces that bit for bit rather than using
// Python's round(), which rounds ties to even.

/** US dollars per one unit of each currency (ISO 4217 codes). */
export const RATES_TO_USD = Object.freeze({
  USD: 1,
  EUR: 1.085,
  GBP: 1.27,
  CHF: 1.13,
  JPY: 0.0067,
  CNY: 0.138,
  INR: 0.012,
  KRW: 0.00075,
  CAD: 0.735,
  AUD: 0.66,
  NZD: 0.61,
  SEK: 0.096,
  NOK: 0.094,
  DKK: 0.1455,
  PLN: 0.25,
  BRL: 0.18,
  MXN: 0.058,
});

/** Thrown for a currency that is not a three-letter code in RATES_TO_USD. */
export class UnknownCurrencyError extends Error {
  constructor(message) {
    super(message);
    this.name = "UnknownCurrencyError";
  }
}

/** Thrown by toUSD for an amount that parseAmount does not accept. */
export class InvalidAmountError extends Error {
  constructor(message) {
    super(message);
    this.name = "InvalidAmountError";
  }
}

const AMOUNT_TEXT = /^-?[0-9]+(\.[0-9]+)?$/;
const CODE_TEXT = /^[ \t]*([A-Za-z]{3})[ \t]*$/;

/** How a bad value is named in error messages (the same text in currency.py). */
export function describe(value) {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === null || value === undefined) return "null";
  if (Array.isArray(value)) return "a value of type array";
  return `a value of type ${typeof value}`;
}

/** The upper-case ISO code of a currency ("eur", " EUR " → "EUR"), or null when it is not three letters. */
export function normaliseCode(currency) {
  if (typeof currency !== "string") return null;
  const match = CODE_TEXT.exec(currency);
  return match ? match[1].toUpperCase() : null;
}

/** True when the currency is in the rate table (case and surrounding blanks ignored). */
export function isKnownCurrency(currency) {
  const code = normaliseCode(currency);
  return code !== null && Object.prototype.hasOwnProperty.call(RATES_TO_USD, code);
}

/** US dollars per one unit of `currency`; throws UnknownCurrencyError for anything not in the table. */
export function usdRate(currency) {
  if (!isKnownCurrency(currency)) throw new UnknownCurrencyError(`unknown currency ${describe(currency)}`);
  return RATES_TO_USD[normaliseCode(currency)];
}

/**
 * An amount as a number: a finite number, or a plain decimal string ("12", "-3.50"); anything
 * else (booleans, "", "1e3", "12,50", " 12", objects) is null. The string rule is deliberately
 * narrow so that JavaScript's Number() and Python's float() cannot disagree on what they accept.
 */
export function parseAmount(value) {
  if (typeof value === "number") return Number.isFinite(value) ? value : null;
  if (typeof value === "string" && AMOUNT_TEXT.test(value)) return Number(value);
  return null;
}

/** Rounds to cents: Math.round(x * 100) / 100. */
export function roundCents(amount) {
  return Math.round(amount * 100) / 100;
}

/** `amount` (a number or decimal string) in `currency`, converted to US dollars and rounded to cents. */
export function toUSD(amount, currency) {
  const rate = usdRate(currency);
  const value = parseAmount(amount);
  if (value === null) throw new InvalidAmountError(`invalid amount ${describe(amount)}`);
  return roundCents(value * rate);
}
