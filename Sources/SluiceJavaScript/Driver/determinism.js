// ---- Determinism --------------------------------------------------------------------------
// A fixed clock and a seeded Math.random for test and replay runs, installed for one batch
// (restoreRealm puts the real ones back before the next).
function installDeterminism(settings) {
  if (settings === null) return;
  const fixedNow = settings.now;
  const FixedDate = function Date(...args) {
    if (new.target === undefined) return ReflectApply(RealDateToString, new RealDate(fixedNow), []);
    // Subclasses (`class D extends Date`) keep their prototype.
    return ReflectConstruct(RealDate, args.length === 0 ? [fixedNow] : args, new.target);
  };
  ObjectSetPrototypeOf(FixedDate, RealDate);
  ReflectDefineProperty(FixedDate, "prototype", { __proto__: null, value: RealDate.prototype });
  ReflectDefineProperty(FixedDate, "now", hiddenProperty(() => fixedNow));
  ReflectDefineProperty(globalObject, "Date", hiddenProperty(FixedDate));
  ReflectDefineProperty(RealDate.prototype, "constructor", hiddenProperty(FixedDate));
  let state = settings.seed >>> 0;
  ReflectDefineProperty(MathObject, "random", hiddenProperty(function random() {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = MathImul(state ^ (state >>> 15), 1 | state);
    t = (t + MathImul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }));
}
