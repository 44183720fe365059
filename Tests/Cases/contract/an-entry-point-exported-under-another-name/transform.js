function f(e) { e.f = 1; return e; }
export { f as transformEvent };
