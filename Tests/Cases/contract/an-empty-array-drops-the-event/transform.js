export function transformEvent(event) { return []; }
