export function transformBatch(events) { return events.reverse(); }
