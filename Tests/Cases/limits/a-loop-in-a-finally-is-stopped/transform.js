export function transformEvent(e) { try { for (;;) {} } finally { for (;;) {} } }
