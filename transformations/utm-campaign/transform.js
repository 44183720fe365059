// utm-campaign: fill `context.campaign` from the UTM parameters of the page URL.
//
// - The URL is `context.page.url`; when that has no UTM parameter (missing, not a string, no
//   query, malformed), `properties.url` is tried instead (server-side and mobile sources often
//   only send that).
// - utm_source → source, utm_medium → medium, utm_campaign → name, utm_term → term,
//   utm_content → content; only parameters with a non-empty value are set. Values are
//   percent-decoded ("+" is a space); a value with broken percent-encoding is kept as written
//   (see libraries/url.js), a malformed URL simply yields nothing.
// - A `context.campaign` the SDK already filled wins: URL values only fill the keys it lacks.
//   A `context` or `context.campaign` that is not an object is left alone (and logged).
// - Events are never dropped.
import { utmFields } from "url";

const isPlainObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);
const messageIdOf = (event) => (typeof event.messageId === "string" ? event.messageId : "(no messageId)");

function campaignFrom(event) {
  const page = isPlainObject(event.context) ? event.context.page : undefined;
  const candidates = [
    ["context.page.url", isPlainObject(page) ? page.url : undefined],
    ["properties.url", isPlainObject(event.properties) ? event.properties.url : undefined],
  ];
  for (const [where, url] of candidates) {
    const campaign = utmFields(url);
    if (Object.keys(campaign).length > 0) return [where, campaign];
  }
  return [null, {}];
}

export function transformEvent(event, metadata) {
  const [where, campaign] = campaignFrom(event);
  if (where === null) return event;
  if (event.context === undefined || event.context === null) event.context = {};
  if (!isPlainObject(event.context)) {
    log(`utm-campaign: ${messageIdOf(event)}: context is not an object, campaign not set`);
    return event;
  }
  const existing = event.context.campaign;
  if (existing !== undefined && existing !== null && !isPlainObject(existing)) {
    log(`utm-campaign: ${messageIdOf(event)}: context.campaign is not an object, left as is`);
    return event;
  }
  const target = isPlainObject(existing) ? existing : (event.context.campaign = {});
  const added = [];
  for (const [field, value] of Object.entries(campaign)) {
    if (target[field] === undefined || target[field] === null || target[field] === "") {
      target[field] = value;
      added.push(field);
    }
  }
  log(`utm-campaign: ${messageIdOf(event)}: from ${where} set [${added.join(", ")}]`);
  return event;
}
