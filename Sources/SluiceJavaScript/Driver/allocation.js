// ---- Allocation checks --------------------------------------------------------------------
// Constructors and methods that allocate a size given as a number check it against the call's
// memory budget before allocating: JavaScriptCore reserves such memory lazily, so the resident
// set only grows as it is written, often by one native call (`fill`) faster than the watchdog
// samples. A refused allocation throws a RangeError into user code and fails the call with the
// memory limit even if the code catches it.
let memoryBudget = Infinity, memoryMessage = "", refusedSequence = 0;

function checkAllocation(bytes, what) {
  if (bytes > memoryBudget && bytes !== Infinity) {
    refusedSequence = sequence;
    throw new RangeErrorConstructor(memoryMessage + ": " + what + " asks for " + MathFloor(bytes / 1048576) + " MB");
  }
}

/// Bytes a typed array constructed from `first` allocates (0 when it views an existing buffer or
/// the size is unknown before the engine runs user code to find it).
function typedArrayBytes(first, elementSize) {
  if (first === undefined) return 0;
  if (first === null || (typeof first !== "object" && typeof first !== "function")) return +first * elementSize;
  if (ArrayBufferIsView(first)) {
    try { return ReflectApply(TypedArrayLength, first, []) * elementSize; } catch (e) { return 0; }  // a DataView
  }
  const length = ownDescriptor(first, "length");  // arrays and array-likes; buffers have none
  return length !== undefined && typeof length.value === "number" ? length.value * elementSize : 0;
}

/// Replaces a global constructor with one that first calls `check(first argument)` (which throws
/// to refuse, or returns the first argument to construct with) and behaves like the original:
/// same name, length, prototype (whose `constructor` it becomes, so species-created arrays are
/// checked too), statics and [[Prototype]]; `instanceof` and subclassing work; a bound function,
/// so its source reads `[native code]`.
function checkedConstructor(Original, check) {
  const name = Original.name;
  const target = { [name]: function (first, second, third) {
    if (new.target === undefined) return ReflectApply(Original, undefined, []);  // the engine's own TypeError
    const checked = check(first);
    if (new.target === target) return new Original(checked, second, third);
    return ReflectConstruct(Original, [checked, second, third], new.target);
  } }[name];
  ReflectDefineProperty(target, "name", ownDescriptor(Original, "name"));  // what the bound function's source shows
  const Checked = ReflectApply(FunctionBind, target, [undefined]);
  const keys = ReflectOwnKeys(Original);
  for (let i = 0; i < keys.length; i++) ReflectDefineProperty(Checked, keys[i], ownDescriptor(Original, keys[i]));
  ReflectDefineProperty(target, "prototype", ownDescriptor(Original, "prototype"));
  ObjectSetPrototypeOf(Checked, ReflectGetPrototypeOf(Original));
  ReflectDefineProperty(Original.prototype, "constructor", hiddenProperty(Checked));
  ReflectDefineProperty(globalObject, name, hiddenProperty(Checked));
}

function checkedMethod(holder, name, wrap) {
  const original = ownDescriptor(holder, name);
  if (original === undefined || typeof original.value !== "function") return;
  const checked = wrap(original.value);
  ReflectDefineProperty(checked, "name", { __proto__: null, value: name, writable: false, enumerable: false, configurable: true });
  ReflectDefineProperty(checked, "length", ownDescriptor(original.value, "length"));
  original.value = checked;
  ReflectDefineProperty(holder, name, original);
}

const typedArrayNames = ["Int8Array", "Uint8Array", "Uint8ClampedArray", "Int16Array", "Uint16Array", "Int32Array",
  "Uint32Array", "Float16Array", "Float32Array", "Float64Array", "BigInt64Array", "BigUint64Array"];
for (let i = 0; i < typedArrayNames.length; i++) {
  const Original = globalObject[typedArrayNames[i]];
  if (typeof Original !== "function") continue;
  const size = Original.BYTES_PER_ELEMENT;
  checkedConstructor(Original, (first) => {
    checkAllocation(typedArrayBytes(first, size), "new " + Original.name);
    return first;
  });
}
for (const name of ["ArrayBuffer", "SharedArrayBuffer"]) {
  const Original = globalObject[name];
  if (typeof Original !== "function") continue;
  checkedConstructor(Original, (length) => {
    const bytes = +length;  // converted once, here: the engine gets the number
    checkAllocation(bytes, "new " + name + "(" + bytes + ")");
    return bytes;
  });
}
for (const name of ["resize", "transfer", "transferToFixedLength"]) {
  checkedMethod(ArrayBuffer.prototype, name, (original) => function (newLength) {
    if (newLength === undefined) return ReflectApply(original, this, []);
    const bytes = +newLength;
    checkAllocation(bytes, "ArrayBuffer.prototype." + name + "(" + bytes + ")");
    return ReflectApply(original, this, [bytes]);
  });
}
checkedMethod(String.prototype, "repeat", (original) => function (count) {
  if (typeof this !== "string") return ReflectApply(original, this, arguments);
  const times = +count;
  checkAllocation(this.length * times, "String.prototype.repeat(" + times + ")");
  return ReflectApply(original, this, [times]);
});
for (const name of ["padStart", "padEnd"]) {
  checkedMethod(String.prototype, name, (original) => function (maxLength, fillString) {
    if (typeof this !== "string") return ReflectApply(original, this, arguments);
    const length = +maxLength;
    if (length > this.length && fillString !== "") checkAllocation(length, "String.prototype." + name + "(" + length + ")");
    return ReflectApply(original, this, [length, fillString]);
  });
}
checkedMethod(Array.prototype, "fill", (original) => function (value, start, end) {
  // Filling the holes of a long sparse array (`Array(2**30).fill(0)`) allocates 8 bytes a slot
  // in one native call. Only arrays with numeric (or absent) bounds are checked: converting
  // objects here would run their valueOf twice.
  let array = false;
  try { array = isArray(this); } catch (e) { /* a revoked proxy: the engine throws */ }
  if (array && (start === undefined || typeof start === "number") && (end === undefined || typeof end === "number")) {
    const length = this.length;
    const from = relativeIndex(start, 0, length), to = relativeIndex(end, length, length);
    if (to > from) checkAllocation((to - from) * 8, "Array.prototype.fill over " + (to - from) + " elements");
  }
  return ReflectApply(original, this, arguments);
});
function relativeIndex(value, absent, length) {
  if (value === undefined) return absent;
  const integer = value !== value ? 0 : value < 0 ? -MathFloor(-value) : MathFloor(value);
  if (integer < 0) return length + integer < 0 ? 0 : length + integer;
  return integer > length ? length : integer;
}

// JSON.parse with a reviver on text nested some 270,000 levels deep overflows the engine
// thread's stack in a native recursion that has no stack check (JavaScriptCore 2.50: the
// process dies); up from about 50,000 levels it throws a RangeError. Texts long enough to nest
// that deep are measured first and refused with that RangeError.
const REVIVER_DEPTH_LIMIT = 100000;
checkedMethod(JSON, "parse", (original) => function (text, reviver) {
  if (typeof reviver !== "function" || typeof text === "symbol") return ReflectApply(original, undefined, arguments);
  const source = typeof text === "string" ? text : StringOf(text);
  if (source.length > 2 * REVIVER_DEPTH_LIMIT && nestingDepth(source) > REVIVER_DEPTH_LIMIT) {
    throw new RangeErrorConstructor("Maximum call stack size exceeded.");
  }
  return ReflectApply(original, undefined, [source, reviver]);
});
function nestingDepth(text) {
  let depth = 0, deepest = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === "\"") inString = false;
    } else if (c === "\"") inString = true;
    else if (c === "[" || c === "{") { if (++depth > deepest) deepest = depth; }
    else if (c === "]" || c === "}") depth--;
  }
  return deepest;
}
