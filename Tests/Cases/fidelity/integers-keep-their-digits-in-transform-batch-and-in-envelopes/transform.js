export function transformBatch(events) { return events.map((e) => ({ ...e, kind: typeof e.id })); }
