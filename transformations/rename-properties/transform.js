// rename-properties: tidy `properties` for warehouse destinations, and fix legacy event names.
//
// - Keys become snake_case: camelCase and PascalCase split at case changes ("orderID" →
//   "order_id", "HTTPStatus" → "http_status"), runs of blanks and dashes become "_", blanks and
//   dashes at either end are removed. A key that would become empty is kept as it was. Nested
//   objects (and objects inside lists) are renamed the same way, down to MAX_DEPTH levels.
// - When two keys map to the same snake_case key ("orderId" and "order_id"), the first one in
//   the event wins and the other is dropped (and logged).
// - null values and strings that are empty after trimming are dropped (inside lists they are
//   kept, positions matter there). Strings are trimmed and cut to MAX_LENGTH characters, counted
//   in Unicode code points so an emoji is never cut in half (JavaScript's .length would count
//   UTF-16 units); cuts are logged.
// - Trimming uses an explicit whitespace set (that of String.prototype.trim), so the Python
//   twin, whose str.strip() knows a slightly different set, trims exactly the same characters.
// - Track events whose name is in LEGACY_EVENT_NAMES (compared trimmed and case-insensitively)
//   are renamed to the current spec name.
// - Only `properties` is touched; traits, context and the rest pass through.

const MAX_LENGTH = 256;
const MAX_DEPTH = 8;

const LEGACY_EVENT_NAMES = new Map([
  ["order complete", "Order Completed"],
  ["order completed successfully", "Order Completed"],
  ["completed order", "Order Completed"],
  ["product add", "Product Added"],
  ["add to cart", "Product Added"],
  ["product view", "Product Viewed"],
  ["checkout start", "Checkout Started"],
  ["sign up", "Signed Up"],
  ["signup", "Signed Up"],
  ["search", "Products Searched"],
]);

const BLANKS = "\\t\\n\\v\\f\\r \\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff";
const TRIM = new RegExp(`^[${BLANKS}]+|[${BLANKS}]+$`, "g");

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const messageIdOf = (event) => (typeof event.messageId === "string" ? event.messageId : "(no messageId)");

export function snakeCase(key) {
  const snake = key
    .replace(/^[ \t\n\r\f\v-]+|[ \t\n\r\f\v-]+$/g, "")
    .replace(/[ \t\n\r\f\v-]+/g, "_")
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1_$2")
    .toLowerCase();
  return snake === "" ? key : snake;
}

function tidyString(text, path, notes) {
  const trimmed = text.replace(TRIM, "");
  if (trimmed.length <= MAX_LENGTH) return trimmed; // UTF-16 units ≥ code points
  const points = Array.from(trimmed);
  if (points.length <= MAX_LENGTH) return trimmed;
  notes.push(`cut ${path} from ${points.length} to ${MAX_LENGTH} characters`);
  return points.slice(0, MAX_LENGTH).join("");
}

function tidyValue(value, path, depth, notes) {
  if (typeof value === "string") return tidyString(value, path, notes);
  if (depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) return value.map((item, index) => tidyValue(item, `${path}[${index}]`, depth + 1, notes));
  if (isPlainObject(value)) return tidyObject(value, path, depth + 1, notes);
  return value;
}

function tidyObject(object, path, depth, notes) {
  const result = {};
  const from = new Map(); // snake_case key → the key it came from
  for (const [key, value] of Object.entries(object)) {
    const name = snakeCase(key);
    if (from.has(name)) {
      notes.push(`dropped ${path}.${key}: ${path}.${from.get(name)} is also ${name}`);
      continue;
    }
    from.set(name, key);
    if (value === null) continue;
    const tidy = tidyValue(value, `${path}.${name}`, depth, notes);
    if (tidy === "") continue;
    // defineProperty, not result[name] = …: a "__proto__" key must stay an ordinary key.
    Object.defineProperty(result, name, { value: tidy, enumerable: true, writable: true, configurable: true });
  }
  return result;
}

export function transformEvent(event, metadata) {
  const notes = [];
  if (event.type === "track" && typeof event.event === "string") {
    const current = LEGACY_EVENT_NAMES.get(event.event.replace(TRIM, "").toLowerCase());
    if (current !== undefined && current !== event.event) {
      notes.push(`renamed event "${event.event}" to "${current}"`);
      event.event = current;
    }
  }
  if (isPlainObject(event.properties)) event.properties = tidyObject(event.properties, "properties", 0, notes);
  for (const note of notes) log(`rename-properties: ${messageIdOf(event)}: ${note}`);
  return event;
}
