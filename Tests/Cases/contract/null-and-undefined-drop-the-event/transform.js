export function transformEvent(event) { if (event.n === 1) return null; if (event.n === 2) return undefined; }
