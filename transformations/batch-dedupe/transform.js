// batch-dedupe: within each batch,
// - drops events whose messageId was already seen (the first one wins; retries and double sends
//   from the SDKs repeat the messageId);
// - merges identify events of the same userId into the first of them: the later events' traits
//   (and context.traits) are shallow-merged over the earlier ones (a later value, null included,
//   overrides), the merged event lists the ids it absorbed in context.mergedMessageIds, and the
//   later events are dropped.
// The merged event keeps the first event's envelope (timestamps, other context keys). The order
// of the kept events is the input order. Events without a string messageId are kept
// as they are (they cannot be deduplicated); identify events without a string userId are not merged.
// Only events within one batch are compared (module state does not outlive a batch).

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function shown(id) {
  return typeof id === "string" ? id : "(no messageId)";
}

// Shallow-merges source's keys over target (an object, or {} when it is not one).
function mergeTraits(target, source) {
  const merged = isObject(target) ? target : {};
  for (const key of Object.keys(source)) merged[key] = source[key];
  return merged;
}

export function transformBatch(events, metadata) {
  const seen = new Set();
  const firstIdentify = new Map(); // userId → the kept identify event
  const kept = [];
  for (const event of events) {
    const id = event.messageId;
    if (typeof id === "string") {
      if (seen.has(id)) {
        log(`dropped ${id}: duplicate messageId`);
        continue;
      }
      seen.add(id);
    }
    if (event.type === "identify" && typeof event.userId === "string" && event.userId !== "") {
      const first = firstIdentify.get(event.userId);
      if (first === undefined) {
        firstIdentify.set(event.userId, event);
      } else {
        if (isObject(event.traits)) first.traits = mergeTraits(first.traits, event.traits);
        if (isObject(event.context) && isObject(event.context.traits)) {
          if (!isObject(first.context)) first.context = {};
          first.context.traits = mergeTraits(first.context.traits, event.context.traits);
        }
        if (!isObject(first.context)) first.context = {};
        if (!Array.isArray(first.context.mergedMessageIds)) first.context.mergedMessageIds = [];
        first.context.mergedMessageIds.push(typeof id === "string" ? id : null);
        log(`merged ${shown(id)} into ${shown(first.messageId)}: identify of ${event.userId}`);
        continue;
      }
    }
    kept.push(event);
  }
  return kept;
}
