const keep = [];
export function transformEvent(e) { if (e.bomb) { for (;;) keep.push(new Array(1e6).fill(1)); } return {kept: keep.length}; }
