// One catastrophic backtrack (~350 ms) runs in the regular-expression engine, where the watchdog
// cannot stop it; it returns before the monitor's 2 s grace. Its event gets the time-limit error
// as if the watchdog had stopped it, split outputs included.
export function transformEvent(e) {
  const r = e.n > 1 ? /^(a+)+$/.test("a".repeat(e.n) + "b") : false;
  return [{ r, n: e.n }, { n: e.n }];
}
