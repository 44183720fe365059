export function transformEvent(e) { let s = 'x'; for (;;) { s = s + s; s.charCodeAt(s.length - 1); } }
