export function transformEvent(e) { return e; }
export function transformBatch(e) { return e; }
