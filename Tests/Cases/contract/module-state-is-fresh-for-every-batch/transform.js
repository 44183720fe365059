let count = 0;
export function transformEvent(e) { count += 1; return {count}; }
