const config = JSON.parse('{bad');
export function transformEvent(e) { return e; }
