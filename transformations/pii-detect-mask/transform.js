// pii-detect-mask: finds e-mail addresses, phone numbers and Luhn-valid card numbers in every
// string inside properties, traits and context.traits (at any depth, arrays included) and masks
// them with the pii library: a***@example.com, +1******1234, ************1234.
// The counts go to context.piiMasked {email, phone, card} on every event (a missing or null
// context becomes {}; a context that is not an object is left alone and gets no counts); a line
// is logged for each event where something was masked.
// Keys, numbers and booleans are not changed (a card number sent as a JSON number stays as it is).
import { maskDeep } from "pii";

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// Masks container[key] (in place for objects and arrays), adding what was masked to total.
function maskField(container, key, total) {
  if (!(key in container)) return;
  const { value, counts } = maskDeep(container[key]);
  container[key] = value;
  total.email += counts.email;
  total.phone += counts.phone;
  total.card += counts.card;
}

export function transformEvent(event, metadata) {
  const total = { email: 0, phone: 0, card: 0 };
  maskField(event, "properties", total);
  maskField(event, "traits", total);
  if (event.context === undefined || event.context === null) event.context = {};
  if (isObject(event.context)) {
    maskField(event.context, "traits", total);
    event.context.piiMasked = total;
  }
  const masked = total.email + total.phone + total.card;
  if (masked > 0) {
    const id = typeof event.messageId === "string" ? event.messageId : "(no messageId)";
    log(`masked ${masked} in ${id}: ${total.email} email, ${total.phone} phone, ${total.card} card`);
  }
  return event;
}
