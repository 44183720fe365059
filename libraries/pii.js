// pii: find and mask e-mail addresses, phone numbers and Luhn-valid card numbers in free text
// (the JavaScript twin of pii.py; both give the same result for the same input).
//
//   import { maskText, maskDeep } from "pii";
//   maskText("Mail ada@example.com or call +1 (555) 010-1234")
//   // {text: "Mail a***@example.com or call +1******1234", counts: {email: 1, phone: 1, card: 0}}
//
// What is recognised:
// - e-mail: local@domain.tld, Latin letters with accents allowed (ü, é, ø …);
// - card: 13–19 digits, plain or in groups of 4 (or Amex's 4-6-5) separated by spaces or dashes,
//   and only when the Luhn check passes;
// - phone: "+" and 8–15 digits with spaces, dots, dashes or parentheses between them, or the
//   North-American (555) 010-1234 / 555-010-1234 / 555.010.1234 forms.
// A card or phone candidate glued to a letter or digit (part of an ID) is left alone.
// Masks: a***@example.com (first character of the local part kept), +1******1234 (the "+" and the
// first digit kept when there is a "+", the last 4 digits kept), ************1234 (last 4 kept).
// Patterns use [0-9] rather than \d so that both languages match the same characters.

const EMAIL = "[A-Za-z0-9._%+\\-\\u00C0-\\u024F]+@(?:[A-Za-z0-9\\-\\u00C0-\\u024F]+\\.)+[A-Za-z\\u00C0-\\u024F]{2,}";
const CARD = "[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,3})?|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}";
const PHONE = "\\+[0-9](?:[ ().\\-]{0,2}[0-9]){7,14}|\\(?[0-9]{3}\\)?[ .\\-]?[0-9]{3}[ .\\-][0-9]{4}";
const PII = new RegExp(`(${EMAIL})|(${CARD})|(${PHONE})`, "g");
const ALNUM = /[A-Za-z0-9]/;

function digitsOf(text) {
  return text.replace(/[^0-9]/g, "");
}

function stars(count) {
  return "*".repeat(Math.max(count, 0));
}

/** Whether the digits of `text` (other characters ignored) pass the Luhn check (and there are some). */
export function luhnValid(text) {
  if (typeof text !== "string") return false;
  const digits = digitsOf(text);
  if (digits.length === 0) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

/**
 * "ada@example.com" → "a***@example.com" (the first character of the local part is kept);
 * without an "@" everything is masked ("***"). The mask functions return a non-string as it is.
 */
export function maskEmail(email) {
  if (typeof email !== "string") return email;
  const at = email.lastIndexOf("@");
  const first = at > 0 ? String.fromCodePoint(email.codePointAt(0)) : "";
  return first + "***" + (at >= 0 ? email.slice(at) : "");
}

/** "+1 (555) 010-1234" → "+1******1234"; "555-010-1234" → "******1234". */
export function maskPhone(phone) {
  if (typeof phone !== "string") return phone;
  const digits = digitsOf(phone);
  if (digits.length <= 4) return stars(digits.length);
  const last = digits.slice(-4);
  if (phone.startsWith("+")) return "+" + digits[0] + stars(digits.length - 5) + last;
  return stars(digits.length - 4) + last;
}

/** "4111 1111 1111 1111" → "************1111". */
export function maskCard(number) {
  if (typeof number !== "string") return number;
  const digits = digitsOf(number);
  if (digits.length <= 4) return stars(digits.length);
  return stars(digits.length - 4) + digits.slice(-4);
}

function emptyCounts() {
  return { email: 0, phone: 0, card: 0 };
}

// Calls found(type, value) for each PII value in text, in order, and returns the text with each
// replaced by what found returned.
function scan(text, found) {
  return text.replace(PII, (match, email, card, phone, offset, whole) => {
    if (email !== undefined) return found("email", match);
    const before = offset > 0 ? whole[offset - 1] : "";
    const after = whole[offset + match.length] || "";
    if (ALNUM.test(before) || ALNUM.test(after)) return match;
    if (card !== undefined) return luhnValid(match) ? found("card", match) : match;
    return found("phone", match);
  });
}

/** The PII values in a string, in order: [{type: "email" | "phone" | "card", value}]. */
export function findPii(text) {
  const results = [];
  if (typeof text !== "string") return results;
  scan(text, (type, value) => {
    results.push({ type, value });
    return value;
  });
  return results;
}

const MASKERS = { email: maskEmail, phone: maskPhone, card: maskCard };

/** Masks the PII in a string: {text, counts: {email, phone, card}}. A non-string is returned as it is. */
export function maskText(text) {
  const counts = emptyCounts();
  if (typeof text !== "string") return { text, counts };
  const masked = scan(text, (type, value) => {
    counts[type] += 1;
    return MASKERS[type](value);
  });
  return { text: masked, counts };
}

/**
 * Masks the PII in every string inside a value (objects and arrays, at any depth; keys, numbers
 * and booleans are left alone). Objects and arrays are changed in place. Returns {value, counts}.
 * Walks with an explicit stack, so deep nesting cannot overflow the call stack.
 */
export function maskDeep(value) {
  const counts = emptyCounts();
  const maskOne = (text) => {
    const result = maskText(text);
    counts.email += result.counts.email;
    counts.phone += result.counts.phone;
    counts.card += result.counts.card;
    return result.text;
  };
  if (typeof value === "string") return { value: maskOne(value), counts };
  const stack = [value];
  while (stack.length > 0) {
    const container = stack.pop();
    if (container === null || typeof container !== "object") continue;
    const keys = Array.isArray(container) ? container.keys() : Object.keys(container);
    for (const key of keys) {
      const item = container[key];
      if (typeof item === "string") container[key] = maskOne(item);
      else if (item !== null && typeof item === "object") stack.push(item);
    }
  }
  return { value, counts };
}

export default { luhnValid, maskEmail, maskPhone, maskCard, findPii, maskText, maskDeep };
