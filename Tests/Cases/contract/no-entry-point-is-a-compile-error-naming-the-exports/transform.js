export function transform(e) { return e; }
