export function transformEvent(event) { if (event.n === 2) { const x = undefined; return x.y; } return event; }
