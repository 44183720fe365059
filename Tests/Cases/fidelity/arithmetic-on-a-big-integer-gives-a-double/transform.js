export function transformEvent(e) { return { next: e.id + 1, same: e.id }; }
