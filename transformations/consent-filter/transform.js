// consent-filter: drop events the user did not consent to for this destination, and strip
// personal traits when marketing consent is denied.
//
// - The destination's required consent category is the credential `consentCategory` when it is
//   set (one transformation per destination), else looked up by `metadata.destinationType` in
//   REQUIRED_CATEGORY, else DEFAULT_CATEGORY. Any spelling the `consent` library understands
//   works ("Advertising", "C0004", "targeting" all mean "marketing").
// - Denials are read with the `consent` library from `context.consent.categoryPreferences`
//   (category → false) and from RudderStack's OneTrust-style
//   `context.consentManagement.deniedConsentIds` (C0002 analytics, C0004 marketing, …).
// - Required category denied → the event is dropped. "necessary" can never be denied.
// - Marketing denied and the event kept → the PII keys in `context.traits` are removed (the
//   brief's case is "only marketing is denied"; if more categories are denied and the event
//   still survives, PII is removed as well, as the stricter choice).
//
// CHOICE: an event WITHOUT consent information (neither field present, or present with the wrong
// type) is KEPT unchanged. Consent is only collected on the web where a consent banner runs;
// server-side and mobile sources, and regions without a banner, send no consent fields, and
// dropping those would silently lose most of the data. Client-side SDKs already stop sending
// when consent is refused before load. If your legal basis requires opt-in everywhere, change
// ABSENT_CONSENT to "drop".

import { hasConsentInfo, deniedCategories, normaliseCategory } from "consent";

const ABSENT_CONSENT = "keep";
const DEFAULT_CATEGORY = "analytics";

/** RudderStack destination type → the consent category it needs. */
const REQUIRED_CATEGORY = new Map([
  ["GA4", "analytics"],
  ["AM", "analytics"],
  ["MP", "analytics"],
  ["HEAP", "analytics"],
  ["FACEBOOK_PIXEL", "marketing"],
  ["GOOGLE_ADWORDS_REMARKETING_LISTS", "marketing"],
  ["TIKTOK_ADS", "marketing"],
  ["BRAZE", "marketing"],
  ["INTERCOM", "functional"],
  ["WEBHOOK", "functional"],
  ["BQ", "necessary"],
  ["S3", "necessary"],
]);

const PII_TRAITS = ["email", "phone", "mobile", "phoneNumber", "firstName", "lastName", "name",
  "first_name", "last_name", "phone_number", "address", "street", "postalCode", "birthday"];

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const messageIdOf = (event) => (typeof event.messageId === "string" ? event.messageId : "(no messageId)");

function requiredCategory(event, metadata) {
  const configured = normaliseCategory(getCredential("consentCategory"));
  if (configured !== null) return configured;
  const type = metadata(event).destinationType;
  return (typeof type === "string" && REQUIRED_CATEGORY.get(type.toUpperCase())) || DEFAULT_CATEGORY;
}

export function transformEvent(event, metadata) {
  if (!hasConsentInfo(event)) return ABSENT_CONSENT === "keep" ? event : null;
  const required = requiredCategory(event, metadata);
  const denied = deniedCategories(event).filter((category) => category !== "necessary");
  if (denied.includes(required)) {
    log(`consent-filter: ${messageIdOf(event)}: dropped, "${required}" consent denied`);
    return null;
  }
  if (denied.includes("marketing") && isPlainObject(event.context) && isPlainObject(event.context.traits)) {
    const traits = event.context.traits;
    const removed = PII_TRAITS.filter((key) => Object.prototype.hasOwnProperty.call(traits, key));
    for (const key of removed) delete traits[key];
    if (removed.length > 0) log(`consent-filter: ${messageIdOf(event)}: marketing denied, removed traits ${removed.join(", ")}`);
  }
  return event;
}
