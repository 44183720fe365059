// dedupe: a batch transformation. Keeps the first event per anonymous id, type and event name in
// the batch, and adds the order total to "Order Completed" events.
import { orderTotal } from "eventkit";

export function transformBatch(events, metadata) {
  const seen = new Set();
  const kept = [];
  for (const event of events) {
    const key = `${event.anonymousId}|${event.type}|${event.event || ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (event.event === "Order Completed" && event.properties) {
      event.properties.total = orderTotal(event.properties.products || []);
    }
    kept.push(event);
  }
  return kept;
}
