export function transformBatch(events) { getCredential(); return events; }
