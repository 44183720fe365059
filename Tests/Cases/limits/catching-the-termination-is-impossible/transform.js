export function transformEvent(e) { try { for (;;) {} } catch (x) { return {caught: true}; } }
