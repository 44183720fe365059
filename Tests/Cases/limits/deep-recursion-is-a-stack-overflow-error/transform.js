function down(n) { return 1 + down(n + 1); }
export function transformEvent(e) { if (e.deep) return {n: down(0)}; return e; }
