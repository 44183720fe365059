// event-filter-sampling: drops internal and test traffic, and keeps a deterministic sample of
// high-volume events.
//
// Dropped (with a log line saying why):
// - track events whose name is in DENY_EVENTS;
// - events whose context.traits.email (or traits.email) is at a test domain (TEST_DOMAINS, or a
//   subdomain of one);
// - events with properties.internal === true (the boolean; "true" as a string is not enough).
// Sampled: track events named in SAMPLE_RATES are kept when the user's bucket (FNV-1a of the
// userId, else the anonymousId, else the messageId, modulo 100) is below the rate, so a user is
// either always or never in the sample. Kept sampled events carry context.sampleRate.
import { fnv1aHex } from "hashing";

const DENY_EVENTS = ["Internal Heartbeat", "Test Event", "QA Smoke Test"];
const TEST_DOMAINS = ["test.com", "example.test", "mailinator.com", "qa.acme.io"];
const SAMPLE_RATES = { "Product Viewed": 25, "Search Performed": 25 }; // percent kept

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// The test domain an e-mail address is at, or null.
function testDomainOf(email) {
  if (typeof email !== "string") return null;
  const at = email.lastIndexOf("@");
  if (at < 0) return null;
  // Only spaces, tabs and line breaks are trimmed (trim() and Python's strip() differ on others).
  const domain = email.slice(at + 1).replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "").toLowerCase();
  for (const test of TEST_DOMAINS) {
    if (domain === test || domain.endsWith("." + test)) return test;
  }
  return null;
}

// The first non-empty string among userId, anonymousId and messageId: whose bucket decides.
function samplingKey(event) {
  for (const key of ["userId", "anonymousId", "messageId"]) {
    if (typeof event[key] === "string" && event[key] !== "") return event[key];
  }
  return null;
}

export function transformEvent(event, metadata) {
  const id = typeof event.messageId === "string" ? event.messageId : "(no messageId)";
  const name = event.type === "track" && typeof event.event === "string" ? event.event : null;
  if (name !== null && DENY_EVENTS.includes(name)) {
    log(`dropped ${id}: event "${name}" is in the deny list`);
    return null;
  }
  const context = isObject(event.context) ? event.context : {};
  const traitsList = [isObject(context.traits) ? context.traits : {}, isObject(event.traits) ? event.traits : {}];
  for (const traits of traitsList) {
    const domain = testDomainOf(traits.email);
    if (domain !== null) {
      log(`dropped ${id}: e-mail at test domain ${domain}`);
      return null;
    }
  }
  if (isObject(event.properties) && event.properties.internal === true) {
    log(`dropped ${id}: properties.internal is true`);
    return null;
  }
  if (name !== null && Object.prototype.hasOwnProperty.call(SAMPLE_RATES, name)) {
    const rate = SAMPLE_RATES[name];
    const key = samplingKey(event);
    const bucket = key === null ? 0 : parseInt(fnv1aHex(key), 16) % 100;
    if (bucket >= rate) {
      log(`dropped ${id}: "${name}" sampled at ${rate}%, bucket ${bucket}`);
      return null;
    }
    if (isObject(event.context)) event.context.sampleRate = rate / 100;
    else if (event.context === undefined || event.context === null) event.context = { sampleRate: rate / 100 };
  }
  return event;
}
