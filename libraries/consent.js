// consent: read the consent fields RudderStack events carry, as normalised category names.
// The Python twin is consent.py; both give the same results for the same input.
//
//   import { hasConsentInfo, deniedCategories, isDenied } from "consent";
//   deniedCategories(event)            // ["marketing", "analytics"]
//   isDenied(event, "Advertising")     // true: "advertising" is a synonym of "marketing"
//
// Two shapes are understood:
// - `context.consent.categoryPreferences`: an object of category name → boolean (the
//   consent-manager-agnostic shape); a category counts as denied only when its value is the
//   boolean false (a string "false", null or a missing key is not a denial);
// - `context.consentManagement.deniedConsentIds` (RudderStack's OneTrust / Ketch / custom consent
//   management): a list of consent ids; OneTrust's standard group ids C0001–C0005 are mapped to
//   category names, other ids are used as category names themselves.
//
// Category names are normalised so both shapes compare equal: lower case, blanks and dashes
// become "_", and common synonyms map to one name (advertising/targeting → marketing,
// performance/statistics → analytics, …).

/** OneTrust's standard cookie-category group ids. */
export const ONETRUST_CATEGORIES = Object.freeze({
  C0001: "necessary",
  C0002: "analytics",
  C0003: "functional",
  C0004: "marketing",
  C0005: "social",
});

/** Other names for the same category. */
export const CATEGORY_SYNONYMS = Object.freeze({
  advertising: "marketing",
  ads: "marketing",
  targeting: "marketing",
  performance: "analytics",
  statistics: "analytics",
  measurement: "analytics",
  strictly_necessary: "necessary",
  essential: "necessary",
  preferences: "functional",
  personalisation: "functional",
  personalization: "functional",
  social_media: "social",
});

const has = (object, key) => Object.prototype.hasOwnProperty.call(object, key);
const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** A category name or consent id as a normalised category name, or null when it is not a non-empty string. */
export function normaliseCategory(name) {
  if (typeof name !== "string") return null;
  const trimmed = name.replace(/^[ \t\-_]+|[ \t\-_]+$/g, "");
  if (trimmed === "") return null;
  const upper = trimmed.toUpperCase();
  if (has(ONETRUST_CATEGORIES, upper)) return ONETRUST_CATEGORIES[upper];
  const key = trimmed.toLowerCase().replace(/[ \t\-]+/g, "_");
  return has(CATEGORY_SYNONYMS, key) ? CATEGORY_SYNONYMS[key] : key;
}

/** `context.consent.categoryPreferences` when it is an object, else null. */
export function categoryPreferences(event) {
  const consent = isPlainObject(event) && isPlainObject(event.context) ? event.context.consent : null;
  return isPlainObject(consent) && isPlainObject(consent.categoryPreferences) ? consent.categoryPreferences : null;
}

/** The string entries of `context.consentManagement.deniedConsentIds` when it is a list, else null. */
export function deniedConsentIds(event) {
  const management = isPlainObject(event) && isPlainObject(event.context) ? event.context.consentManagement : null;
  if (!isPlainObject(management) || !Array.isArray(management.deniedConsentIds)) return null;
  return management.deniedConsentIds.filter((id) => typeof id === "string");
}

/** True when the event carries either consent shape (even an empty one: "nothing denied"). */
export function hasConsentInfo(event) {
  return categoryPreferences(event) !== null || deniedConsentIds(event) !== null;
}

/** The denied categories, normalised, without duplicates, in the order they appear (preferences first). */
export function deniedCategories(event) {
  const denied = [];
  const add = (name) => {
    const category = normaliseCategory(name);
    if (category !== null && !denied.includes(category)) denied.push(category);
  };
  const preferences = categoryPreferences(event);
  if (preferences !== null) {
    for (const [name, granted] of Object.entries(preferences)) if (granted === false) add(name);
  }
  for (const id of deniedConsentIds(event) || []) add(id);
  return denied;
}

/** True when `category` (any spelling normaliseCategory accepts) is denied by the event. */
export function isDenied(event, category) {
  const wanted = normaliseCategory(category);
  return wanted !== null && deniedCategories(event).includes(wanted);
}
