// tidy: the clean-up most transformations start with. Drops heartbeats, replaces e-mail
// addresses by a fingerprint, removes null properties and trims the label.
import { fingerprint, withoutNulls } from "eventkit";

export function transformEvent(event, metadata) {
  if (event.type === "track" && event.event === "Heartbeat") return null;
  for (const traits of [event.traits, event.context && event.context.traits]) {
    if (traits && typeof traits.email === "string") {
      traits.emailId = fingerprint(traits.email.trim().toLowerCase());
      delete traits.email;
    }
  }
  if (event.properties) {
    event.properties = withoutNulls(event.properties);
    if (typeof event.properties.label === "string") event.properties.label = event.properties.label.trim();
  }
  event.context = { ...event.context, tidiedBy: "sluice-bench" };
  return event;
}
