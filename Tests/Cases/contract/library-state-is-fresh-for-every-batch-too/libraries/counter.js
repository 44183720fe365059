let n = 0;
export function next() { return ++n; }
