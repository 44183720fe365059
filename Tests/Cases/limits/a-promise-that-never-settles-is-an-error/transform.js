export function transformEvent(e) { return new Promise(() => {}); }
