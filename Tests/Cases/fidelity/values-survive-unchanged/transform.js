export function transformEvent(e) { return e; }
