export function transformEvent(event) { return event.n === 1 ? [{ok: true}, 5] : [event, [1]]; }
