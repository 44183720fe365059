// mask-pii: hash e-mail addresses (SHA-256, lower-cased and trimmed first, so the same address
// always gives the same hash), remove phone numbers, and drop internal heartbeat events.
import { sha256Hex } from "hashing";

const PHONE_KEYS = ["phone", "phoneNumber", "mobile"];

function scrub(traits) {
  if (!traits || typeof traits !== "object") return;
  if (typeof traits.email === "string" && traits.email !== "") {
    traits.emailSha256 = sha256Hex(traits.email.trim().toLowerCase());
    delete traits.email;
  }
  for (const key of PHONE_KEYS) delete traits[key];
}

export function transformEvent(event, metadata) {
  if (event.type === "track" && event.event === "Internal Heartbeat") return null;
  scrub(event.traits);
  scrub(event.context && event.context.traits);
  if (event.context) event.context.maskedBy = "mask-pii";
  log("masked", event.type, "event", event.messageId);
  return event;
}
