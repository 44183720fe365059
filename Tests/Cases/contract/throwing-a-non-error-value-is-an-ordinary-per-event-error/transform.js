export function transformEvent(event) { if (event.n === 1) throw "plain text"; if (event.n === 2) throw {code: 7}; return event; }
