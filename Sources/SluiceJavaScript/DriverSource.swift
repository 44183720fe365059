/// The JavaScript side of a compiled transformation: evaluated once per transformation context,
/// it holds the module factories and runs batches against fresh module instances.
///
/// Protocol with ``JavaScriptVM`` (all strings, to keep the C API bridge to one string in and
/// one out per batch):
/// - `begin(itemsText, count, credentialsJSON, nonce, determinismJSON, mocksJSON, memoryBytes,
///   memoryLimitMessage, longIntegers)`: parses the items and evaluates a fresh module instance.
///   With a nonzero `nonce` the text is `[item0,nonce,item1,nonce,…]` and is parsed in one go;
///   begin returns 1 when that text is not exactly `count` items (a malformed item), and the host
///   calls again with nonce 0 and the items joined with U+001E, parsed one by one so each bad
///   item fails alone. Returns 0 when ready. `memoryBytes` is the per-call budget the checked
///   allocators refuse to exceed (failing the call with `memoryLimitMessage`); `longIntegers`
///   lists the inputs' integer literals of 16 digits or more (``LongIntegers``).
/// - `step()`: runs calls from the cursor on. 0 = done; 1 = waiting for the promise of the
///   current event (return to the host so microtasks drain, then call `step()` again);
///   2 = that promise is still pending with nothing left that could settle it; 3 = one
///   synchronous call done (returning lets the promise jobs it queued drain under its time
///   limit before the next call; call `step()` again).
/// - `fail(kind, message, reset)`: ends the current call with an error (after a termination).
///   It runs no user code (the host pauses the watchdog around it); with `reset` the modules are
///   evaluated afresh before the next call, under that call's limit.
/// - `finish()`: returns the batch's records joined with U+001E and forgets the batch.
/// - `take()`: returns the records finished so far and forgets them (progress between calls).
/// - `absorb()`: does nothing. A termination inside a microtask (which runs as the previous API
///   call returns) leaves the VM's termination state pending; the next call must be one that
///   runs no engine operation that defers termination (JSON, string builders), or
///   JavaScriptCore 2.50 aborts in `VMTraps::deferTerminationSlow`. This trivial call takes it.
///
/// Record fields are separated by U+001F: `O<i>␟<output JSON>`, `D<i>`,
/// `E<i>␟<kind>␟<message as JSON string>` (metadata is the host's, see `ItemMetadata`),
/// `L<i>␟<text as JSON string>␟<messageId as JSON string or empty>`; `<i>` is the input index or
/// -1. None of the fields can contain U+001E or U+001F: JSON text escapes them.
///
/// `control` is an Int32Array shared with the host's watchdog and monitor: `control[0]` holds a
/// sequence number while user code runs for a call — and while the driver accepts, serialises
/// or describes that call's result, since toJSON methods and getters are user code too — and 0
/// while the driver works on its own; `control[1]` the input index of the current (or last)
/// call, -1 for a batch call or the modules' evaluation.
///
/// The driver is written against hostile code in the same realm: see "Intrinsics" at its top.
enum DriverSource {
    static let fileName = "sluice:driver"

    static let code = #"""
(function (factories, dependencies, isBatch, control, fileNames, headerLines, hostFetch, legacy) {
"use strict";

// ---- Intrinsics ---------------------------------------------------------------------------
// Captured now, before any user code runs in this realm. From here on user code may replace any
// built-in, prototype method, accessor or hook (in an earlier call of the batch, or for good with
// a non-configurable property in an earlier batch), so everything the driver does afterwards goes
// through these captured functions, through operators, or through objects of its own whose
// properties are all own or that have no prototype: no [[Get]] or [[Set]] of the driver reaches
// a user accessor, no iteration reaches a user iterator, no call goes through a user `call`.
// User code the driver does run on purpose (toJSON, getters of a returned object or a thrown
// error, a thenable's `then`) runs while the call's sequence number is in `control[0]`, under the
// call's time limit.
const globalObject = globalThis;
const ReflectApply = Reflect.apply, ReflectConstruct = Reflect.construct, ReflectOwnKeys = Reflect.ownKeys;
const ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor, ReflectDefineProperty = Reflect.defineProperty;
const ReflectDeleteProperty = Reflect.deleteProperty, ReflectGetPrototypeOf = Reflect.getPrototypeOf;
const ReflectSetPrototypeOf = Reflect.setPrototypeOf;
const ObjectKeys = Object.keys, ObjectFreeze = Object.freeze, ObjectHasOwn = Object.hasOwn;
const ObjectSetPrototypeOf = Object.setPrototypeOf;
const ObjectPrototype = Object.prototype, ArrayPrototype = Array.prototype, PromisePrototype = Promise.prototype;
const isArray = Array.isArray, isError = Error.isError, ArrayBufferIsView = ArrayBuffer.isView;
const JSONparse = JSON.parse, JSONstringify = JSON.stringify, JSONrawJSON = JSON.rawJSON;
const StringOf = String, StringSlice = String.prototype.slice, StringIndexOf = String.prototype.indexOf;
const StringLastIndexOf = String.prototype.lastIndexOf;
const MathFloor = Math.floor, MathImul = Math.imul, MathObject = Math;
const FunctionBind = Function.prototype.bind, promiseThen = Promise.prototype.then;
const PromiseResolve = Promise.resolve.bind(Promise), PromiseReject = Promise.reject.bind(Promise);
const TypeErrorConstructor = TypeError, RangeErrorConstructor = RangeError, Uint8ArrayConstructor = Uint8Array;
const TypedArrayLength = ReflectGetOwnPropertyDescriptor(ReflectGetPrototypeOf(Uint8Array.prototype), "length").get;
const RealDate = Date, RealDateToString = Date.prototype.toString;

const RS = "\x1e", US = "\x1f";
// Largest JSON text of one returned event (32 Mi UTF-16 units): larger ones fail that event, so
// one runaway output cannot swamp the response or the worker channel.
const MAXIMUM_OUTPUT = 32 * 1024 * 1024;
const NOT_AN_OBJECT = "returned event from transformEvent(event) is not an object";
const ELEMENT_NOT_AN_OBJECT = "returned event in events array from transformEvent(event) is not an object";
const BATCH_ELEMENT_NOT_AN_OBJECT = "returned event in events array from transformBatch(events) is not an object";
const BATCH_NOT_AN_ARRAY = "returned events from transformBatch(event) is not an array";
const LEGACY_NOT_AN_ARRAY = "returned events from transform(events) is not an array";
const LEGACY_ELEMENT_NOT_AN_OBJECT = "returned event in events array from transform(events) is not an object";

/// A list of the driver's own: without a prototype, so an indexed write never reaches a setter
/// user code put on Array.prototype, and reading past the end never reaches a getter.
function newList() { return ObjectSetPrototypeOf([], null); }
/// A dictionary of the driver's own, without a prototype.
function newDictionary() { return ObjectSetPrototypeOf({}, null); }
function dataProperty(value) { return { __proto__: null, value, writable: true, enumerable: true, configurable: true }; }
function hiddenProperty(value) { return { __proto__: null, value, writable: true, enumerable: false, configurable: true }; }
function sliceOf(text, start, end) { return ReflectApply(StringSlice, text, [start, end]); }
function indexIn(text, part, from) { return ReflectApply(StringIndexOf, text, [part, from]); }
function lastIndexIn(text, part, from) { return ReflectApply(StringLastIndexOf, text, [part, from]); }
/// `object[key]` when it is an own property, else undefined (never a prototype's accessor).
function own(object, key) { return ObjectHasOwn(object, key) ? object[key] : undefined; }
/// An own property's descriptor without a prototype (a polluted Object.prototype.get cannot change it).
function ownDescriptor(object, key) {
  const descriptor = ReflectGetOwnPropertyDescriptor(object, key);
  return descriptor === undefined ? undefined : ObjectSetPrototypeOf(descriptor, null);
}
const ObjectToString = Object.prototype.toString;
/// An output must be an object as rudder-transformer tests it (`Object.prototype.toString` says
/// `[object Object]`): an array, an Error, a Date or a Map returned as an event is an error.
function isOutputObject(value) {
  if (value === null || typeof value !== "object") return false;
  try { return ReflectApply(ObjectToString, value, []) === "[object Object]"; } catch (e) { return false; }
}

function isNonArrayObject(value) {
  if (value === null || typeof value !== "object") return false;
  try { return !isArray(value); } catch (e) { return false; }  // a revoked proxy
}

// ---- Batch state --------------------------------------------------------------------------
let sequence = 0, running = false;
// items: one record per input, every field own ({message, metadata, messageId, error}).
let items = null, entry = null, credentials = null, eventCredentials = null;
// Records finished so far, each preceded by RS (an empty record is skipped by the host).
let out = "", logs = "", unmocked = "";
let cursor = 0, waiting = false, settled = false, settledValue = undefined, settledError = false;
let currentIndex = -1, messageIndex = null, instantiating = false;
// The call whose promise jobs are draining after its result was recorded, and where its records start.
let drainIndex = -1, drainMark = 0;
// Where a transformBatch call's records start in `out`: a limit hit while its results are being
// accepted takes back the outputs already recorded, so no input gets an output and an error.
let batchMark = -1;
// Integers of the inputs that JavaScript numbers cannot hold exactly (see integerLiteralsOf).
let integerLiterals = null;
// Set when the last restore could not remove a property user code left on Object.prototype.
let realmTainted = false;

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

// ---- Logging and credentials --------------------------------------------------------------
function formatLogArgument(value) {
  if (typeof value === "string") return value;
  if (isError(value)) return describeError(value);
  let text;
  try { text = serialize(value, undefined); } catch (e) { text = undefined; }
  return typeof text === "string" ? text : printable(value);
}

function printable(value) {
  try { return StringOf(value); } catch (e) { return "(a value that cannot be printed)"; }
}

function log(...args) {
  if (!running) return;
  let text = "";
  for (let i = 0; i < args.length; i++) text = i === 0 ? formatLogArgument(args[i]) : text + " " + formatLogArgument(args[i]);
  const messageId = currentIndex >= 0 ? items[currentIndex].messageId : undefined;
  logs = logs + RS + "L" + currentIndex + US + JSONstringify(text) + US + (typeof messageId === "string" ? JSONstringify(messageId) : "");
}

function getCredential(key) {
  // As rudder-transformer: no key is a TypeError; any other key is a property name (1 → "1").
  if (key === null || key === undefined) throw new TypeErrorConstructor("Key should be valid and defined");
  if (typeof key !== "string") key = StringOf(key);
  // An event that carries its own credentials reads only those; the others read the request's.
  if (eventCredentials !== null && currentIndex >= 0 && ObjectHasOwn(eventCredentials, currentIndex)) {
    return own(eventCredentials[currentIndex], key);
  }
  return credentials === null ? undefined : own(credentials, key);
}

// Only ECMAScript built-ins plus the documented host functions: WebAssembly is not ECMAScript,
// and compiled wasm code is not covered by the watchdog's polling traps.
delete globalObject.WebAssembly;
ReflectDefineProperty(globalObject, "log", hiddenProperty(log));
ReflectDefineProperty(globalObject, "getCredential", hiddenProperty(getCredential));
ReflectDefineProperty(globalObject, "console", hiddenProperty(ObjectFreeze({ log, info: log, warn: log, error: log, debug: log })));
// Legacy code (codeVersion "0") reads metadata through a global `metadata(event)` and, as in
// rudder-transformer, has no getCredential.
if (legacy) {
  ReflectDeleteProperty(globalObject, "getCredential");
  ReflectDefineProperty(globalObject, "metadata", hiddenProperty(function metadata(event) { return metadataOf(event); }));
}

// ---- Errors -------------------------------------------------------------------------------
const userFiles = newDictionary();
for (let i = 0; i < fileNames.length; i++) userFiles[fileNames[i]] = true;

function isDigits(text) {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) if (text[i] < "0" || text[i] > "9") return false;
  return true;
}

/// `    at name (file:line:column)` for a frame of user code (`name@file:line:column`), else "".
function formatFrame(frame) {
  const at = lastIndexIn(frame, "@", frame.length);
  const location = at >= 0 ? sliceOf(frame, at + 1, frame.length) : frame;
  const name = at >= 0 ? sliceOf(frame, 0, at) : "";
  const columnColon = lastIndexIn(location, ":", location.length);
  if (columnColon <= 0) return "";
  const lineColon = lastIndexIn(location, ":", columnColon - 1);
  if (lineColon < 0) return "";
  const file = sliceOf(location, 0, lineColon), lineDigits = sliceOf(location, lineColon + 1, columnColon);
  const column = sliceOf(location, columnColon + 1, location.length);
  if (!isDigits(lineDigits) || !isDigits(column) || userFiles[file] !== true) return "";
  const line = +lineDigits - headerLines;
  if (line < 1) return "";
  const where = file + ":" + line + ":" + column;
  return name !== "" && name !== "global code" ? "    at " + name + " (" + where + ")" : "    at " + where;
}

function formatStack(stack) {
  if (typeof stack !== "string") return "";
  let frames = "";
  for (let start = 0; start <= stack.length;) {
    let end = indexIn(stack, "\n", start);
    if (end < 0) end = stack.length;
    const frame = formatFrame(sliceOf(stack, start, end));
    if (frame !== "") frames = frames === "" ? frame : frames + "\n" + frame;
    start = end + 1;
  }
  return frames;
}

/// What a thrown value says: `TypeError: message` and the user-code frames, or `Uncaught <type>:
/// <value>`. Reading the error may run user getters (under the call's limit); it never throws.
function describeError(error) {
  try {
    return describeThrown(error);
  } catch (e) {
    return "Error: the thrown value could not be described (reading it threw)";
  }
}

function describeThrown(error) {
  if (isError(error)) {
    let name = error.name;
    if (typeof name !== "string" || name === "" || name === "Error") {
      const constructor = error.constructor;
      const constructorName = constructor ? constructor.name : undefined;
      name = typeof constructorName === "string" && constructorName !== "" ? constructorName : "Error";
    }
    const message = error.message;
    const text = typeof message === "string" ? message : StringOf(message);
    const head = text === "" ? name : name + ": " + text;
    const frames = formatStack(error.stack);
    return frames === "" ? head : head + "\n" + frames;
  }
  let text;
  try { text = typeof error === "string" ? error : serialize(error, undefined); } catch (e) { text = undefined; }
  if (text === undefined) text = printable(error);
  return "Uncaught " + (error === null ? "null" : typeof error) + ": " + text;
}

function pushError(index, kind, message) {
  out = out + RS + "E" + index + US + kind + US + JSONstringify(message);
}

// ---- Serialising outputs ------------------------------------------------------------------
// A toJSON on Object.prototype or Array.prototype changes how every object is serialised. One
// the module installs while it is evaluated applies to the whole batch, and one a call installs
// applies to that call's own output; one an earlier call left behind is set aside while a later
// call's output is serialised, so one event cannot change what the events after it return.
let hooksAtSetUp = null, hooksBeforeCall = null, hiddenHooks = null;

/// The toJSON hooks of the two prototypes, or null when there are none (the usual case: `in`
/// on the intrinsic prototypes runs no user code).
function currentHooks() {
  if (!("toJSON" in ArrayPrototype)) return null;
  return { __proto__: null, object: ownDescriptor(ObjectPrototype, "toJSON"), array: ownDescriptor(ArrayPrototype, "toJSON") };
}

function sameDescriptor(a, b) {
  return a !== undefined && b !== undefined && a.value === b.value && a.get === b.get && a.set === b.set &&
    a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable;
}

function isStaleHook(current, atSetUp, beforeCall) {
  return current !== undefined && !sameDescriptor(current, atSetUp) && sameDescriptor(current, beforeCall);
}

function restoreHiddenHooks() {
  if (hiddenHooks === null) return;
  if (hiddenHooks.object !== undefined) ReflectDefineProperty(ObjectPrototype, "toJSON", hiddenHooks.object);
  if (hiddenHooks.array !== undefined) ReflectDefineProperty(ArrayPrototype, "toJSON", hiddenHooks.array);
  hiddenHooks = null;
}

/// JSON text of `value` (undefined when JSON has none), with the hooks of earlier calls set aside
/// and the inputs' inexact integers written as they came (`literals`).
function serialize(value, literals) {
  const hooks = currentHooks();
  if (hooks === null) return stringify(value, literals);
  const setUp = hooksAtSetUp === null ? undefined : hooksAtSetUp, before = hooksBeforeCall === null ? undefined : hooksBeforeCall;
  const hideObject = isStaleHook(hooks.object, setUp && setUp.object, before && before.object);
  const hideArray = isStaleHook(hooks.array, setUp && setUp.array, before && before.array);
  if (!hideObject && !hideArray) return stringify(value, literals);
  hiddenHooks = {
    __proto__: null,
    object: hideObject && ReflectDeleteProperty(ObjectPrototype, "toJSON") ? hooks.object : undefined,
    array: hideArray && ReflectDeleteProperty(ArrayPrototype, "toJSON") ? hooks.array : undefined,
  };
  try {
    return stringify(value, literals);
  } finally {
    restoreHiddenHooks();
  }
}

function stringify(value, literals) {
  return literals === undefined ? JSONstringify(value) : JSONstringify(value, literalWriter(literals));
}

// Integers beyond 2^53 in the inputs. The host finds the integer literals of 16 digits or more in
// the input text (`longIntegers` of begin); for an input with one a double does not hold exactly,
// they are kept here by their double's text, and an output number equal to one is written with
// the input's digits (JSON.rawJSON), so the event passes through unchanged. Two different
// literals of one input with the same double cannot be told apart in the output, which then fails.
let ambiguity = "";
const AMBIGUOUS = ObjectFreeze({ __proto__: null });

function literalWriter(literals) {
  return function (key, value) {
    if (typeof value !== "number") return value;
    const text = literals["" + value];
    if (text === undefined) return value;
    if (typeof text !== "string") {
      ambiguity = "the input's integers " + text.first + " and " + text.second + " are the same JavaScript number (" + value +
        "), so the output cannot say which one it holds";
      throw AMBIGUOUS;
    }
    return JSONrawJSON(text);
  };
}

function addLiteral(literals, key, text) {
  const known = literals[key];
  if (known === undefined) literals[key] = text;
  else if (typeof known === "string" && known !== text) literals[key] = { __proto__: null, first: known, second: text };
}

/// `index␟literal␟literal␞index␟…` → per input, a dictionary from a double's text to the literal.
function parseIntegerLiterals(text) {
  const byInput = newList();
  for (let start = 0; start < text.length;) {
    let end = indexIn(text, RS, start);
    if (end < 0) end = text.length;
    const record = sliceOf(text, start, end);
    let index = -1, inexact = false;
    const literals = newDictionary();
    for (let fieldStart = 0; fieldStart <= record.length;) {
      let fieldEnd = indexIn(record, US, fieldStart);
      if (fieldEnd < 0) fieldEnd = record.length;
      const field = sliceOf(record, fieldStart, fieldEnd);
      if (index < 0) {
        index = +field;
      } else {
        // Exact literals are kept too, to notice an inexact one with the same double.
        const key = "" + +field;
        if (key !== field) inexact = true;
        addLiteral(literals, key, field);
      }
      fieldStart = fieldEnd + 1;
    }
    // An input whose long integers are all exact needs nothing: its outputs take the fast path.
    if (inexact && index >= 0) byInput[index] = literals;
    start = end + 1;
  }
  return byInput;
}

function integerLiteralsOf(index) {
  if (integerLiterals === null) return undefined;
  if (index >= 0) return integerLiterals[index];
  // transformBatch outputs: the literals of every input.
  let merged;
  for (let i = 0; i < integerLiterals.length; i++) {
    const literals = integerLiterals[i];
    if (literals === undefined) continue;
    if (merged === undefined) merged = newDictionary();
    const keys = ObjectKeys(literals);
    for (let k = 0; k < keys.length; k++) {
      const text = literals[keys[k]];
      if (typeof text === "string") addLiteral(merged, keys[k], text);
      else merged[keys[k]] = text;
    }
  }
  return merged;
}

/// The JSON text of one returned object, or undefined after recording why there is none.
function outputText(index, value, literals, notAnObject) {
  let text;
  try {
    text = serialize(value, literals);
  } catch (e) {
    pushError(index, "unserializable_result", e === AMBIGUOUS ? ambiguity : describeSerialisationError(e));
    return undefined;
  }
  if (typeof text !== "string") {
    pushError(index, "unserializable_result", "returned event cannot be serialised as JSON");
    return undefined;
  }
  // A toJSON can turn an object into any JSON value; the host accepts only objects.
  if (text[0] !== "{") {
    pushError(index, "invalid_result", notAnObject);
    return undefined;
  }
  if (text.length > MAXIMUM_OUTPUT) {
    pushError(index, "unserializable_result", "RangeError: returned event is " + MathFloor(text.length / 1048576) +
      " MB of JSON, past the limit of 32 MB for one output");
    return undefined;
  }
  return text;
}

function describeSerialisationError(error) {
  const description = describeError(error);
  const message = isError(error) ? ownDescriptor(error, "message") : undefined;
  if (message === undefined || message.value !== "Maximum call stack size exceeded.") return description;
  return description + " (the returned event is nested too deeply to serialise: JSON.stringify stops at about 40,000 levels)";
}

// ---- Inputs and metadata ------------------------------------------------------------------
const ENVELOPE_KEYS = ObjectSetPrototypeOf({ message: true, metadata: true, destination: true, libraries: true, credentials: true }, null);
const EMPTY_METADATA = ObjectFreeze({});

function validItem(message, metadata, messageId) {
  return { __proto__: null, message, metadata, messageId, error: undefined };
}

function invalidItem(error) {
  return { __proto__: null, message: undefined, metadata: undefined, messageId: undefined, error };
}

/// `object[key]` of an object JSON.parse made. After a batch that left a property on
/// Object.prototype for good, an absent key is not looked up there.
function memberOf(object, key) {
  return realmTainted && !ObjectHasOwn(object, key) ? undefined : object[key];
}

function parseErrorMessage(error) {
  const message = error !== null && typeof error === "object" ? ownDescriptor(error, "message") : undefined;
  return message !== undefined && typeof message.value === "string" && message.value !== "" ? message.value : printable(error);
}

function parseItem(text) {
  let value;
  try {
    value = JSONparse(text);
  } catch (e) {
    return invalidItem("invalid JSON: " + parseErrorMessage(e));
  }
  return classifyItem(value);
}

function classifyItem(value) {
  if (value === null || typeof value !== "object" || isArray(value)) {
    return invalidItem("invalid event: expected a JSON object, got " + (value === null ? "null" : isArray(value) ? "an array" : typeof value));
  }
  const message = memberOf(value, "message");
  if (isNonArrayObject(message)) {
    const keys = ObjectKeys(value);
    let envelope = true;
    for (let i = 0; i < keys.length; i++) if (ENVELOPE_KEYS[keys[i]] !== true) { envelope = false; break; }
    if (envelope) {
      const metadata = memberOf(value, "metadata");
      if (metadata !== undefined && metadata !== null && !isNonArrayObject(metadata)) {
        return invalidItem("invalid envelope: metadata must be an object");
      }
      return validItem(message, metadata == null ? EMPTY_METADATA : metadata, memberOf(message, "messageId"));
    }
  }
  // A bare event: its metadata is {messageId} when it has a string one (see metadataCopy).
  return validItem(value, undefined, memberOf(value, "messageId"));
}

/// Fast path: the whole batch in one JSON.parse, as `[item0,N,item1,N,…]` where N is a random
/// number chosen per batch. A malformed item shifts the structure (or hides N), so unless every
/// odd element is N the host resends the items one by one (`split` form).
function parseJoined(text, count, nonce) {
  let values;
  try { values = JSONparse(text); } catch (e) { return false; }
  if (!isArray(values) || values.length !== 2 * count) return false;
  for (let i = 1; i < values.length; i += 2) if (values[i] !== nonce) return false;
  for (let i = 0; i < values.length; i += 2) items[items.length] = classifyItem(values[i]);
  return true;
}

function parseSeparated(text) {
  for (let start = 0; start <= text.length;) {
    let end = indexIn(text, RS, start);
    if (end < 0) end = text.length;
    items[items.length] = parseItem(sliceOf(text, start, end));
    start = end + 1;
  }
}

/// A key for the input index of a messageId (strings, numbers, booleans and null by value; other
/// values only by identity, without a key).
function messageIdKey(messageId) {
  const type = typeof messageId;
  if (type === "string") return "s" + messageId;
  if (type === "number") return "n" + messageId;
  if (type === "boolean") return "b" + messageId;
  return messageId === null ? "null" : undefined;
}

/// The first input whose event had this messageId when the batch began (what user code did to
/// the events since does not matter), or -1.
function indexOfMessageId(messageId) {
  if (items === null) return -1;
  const key = messageIdKey(messageId);
  if (key === undefined) {
    for (let i = 0; i < items.length; i++) {
      if (items[i].error === undefined && items[i].messageId !== undefined && items[i].messageId === messageId) return i;
    }
    return -1;
  }
  if (messageIndex === null) {
    messageIndex = newDictionary();
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      if (item.error !== undefined || item.messageId === undefined) continue;
      const itemKey = messageIdKey(item.messageId);
      if (itemKey !== undefined && messageIndex[itemKey] === undefined) messageIndex[itemKey] = i;
    }
  }
  const found = messageIndex[key];
  return found === undefined ? -1 : found;
}

/// A deep copy of JSON data the driver holds (never handed to user code): object spread and
/// defineProperty create properties without [[Set]], so no setter on a prototype intercepts them.
function copyJSON(value) {
  if (value === null || typeof value !== "object") return value;
  if (isArray(value)) {
    const copy = [];
    for (let i = 0; i < value.length; i++) ReflectDefineProperty(copy, i, dataProperty(copyJSON(value[i])));
    return copy;
  }
  const copy = { ...value };
  const keys = ObjectKeys(value);
  for (let i = 0; i < keys.length; i++) {
    const member = value[keys[i]];
    if (member !== null && typeof member === "object") ReflectDefineProperty(copy, keys[i], dataProperty(copyJSON(member)));
  }
  return copy;
}

/// `metadata(event)`: a fresh copy of the metadata of the input with the event's messageId, so
/// changing it changes nothing another call sees; `{}` when there is none.
function metadataOf(event) {
  if (!isNonArrayObject(event)) return {};
  const index = indexOfMessageId(event.messageId);
  if (index < 0) return {};
  const item = items[index];
  if (item.metadata !== undefined) return copyJSON(item.metadata);
  return typeof item.messageId === "string" ? { messageId: item.messageId } : {};
}

// ---- Modules ------------------------------------------------------------------------------
function instantiate() {
  const instances = newList();
  for (let i = 0; i < factories.length; i++) {
    const deps = dependencies[i];
    const args = newList();
    args[0] = ObjectFreeze;
    for (let j = 0; j < deps.length; j++) args[j + 1] = instances[deps[j]];
    instances[i] = ReflectApply(factories[i], undefined, args);
  }
  const namespace = instances[instances.length - 1];
  const name = legacy ? "transform" : isBatch ? "transformBatch" : "transformEvent";
  const fn = namespace[name];
  if (typeof fn !== "function") throw new TypeErrorConstructor(name + " is not a function");
  return fn;
}

/// Starts a call (of user code) for input `index` (-1: the whole batch or the module's set-up).
function startCall(index) {
  currentIndex = index;
  sequence = (sequence + 1) | 0 || 1;
  control[1] = index;
  control[0] = sequence;
  hooksBeforeCall = currentHooks();
}

function endCall() {
  control[0] = 0;
  currentIndex = -1;
}

/// Evaluates a fresh instance of the modules, as a call of its own (module code is user code,
/// under the time limit). False when it failed: every input from the cursor on has its error.
function evaluateModules() {
  startCall(-1);
  instantiating = true;
  let failure = "";
  try {
    entry = instantiate();
  } catch (e) {
    entry = null;
    failure = describeError(e);
  }
  instantiating = false;
  if (refusedSequence === sequence) {
    refusedSequence = 0;
    entry = null;
    endCall();
    failRemaining("memory_limit", memoryMessage);
    return false;
  }
  if (entry === null) {
    endCall();
    failRemaining("exception", failure);
    return false;
  }
  hooksAtSetUp = currentHooks();
  endCall();
  return true;
}

/// Fails every input from the cursor on (invalid inputs keep their own error).
function failRemaining(kind, message) {
  for (let i = cursor; i < items.length; i++) {
    const error = items[i].error;
    if (error !== undefined) pushError(i, "invalid_input", error);
    else pushError(i, kind, message);
  }
  cursor = items.length;
}

// ---- Determinism and fetch ----------------------------------------------------------------
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

// fetch and fetchV2 answered from mocks (test runs); the real ones come with the sandbox.
let fetchMocks = null;
function mockedResponse(key) {
  const response = fetchMocks !== null ? own(fetchMocks, key) : undefined;
  if (response !== null && typeof response === "object") return response;
  unmocked = unmocked + RS + "F" + currentIndex + US + JSONstringify("GET " + key);
  return null;
}
function mockBody(response) {
  const body = own(response, "body");
  return body === undefined ? null : copyJSON(body);
}
function mockFetch(url, options) {
  const response = mockedResponse(StringOf(url));
  if (response === null) return PromiseResolve("ERROR");
  const status = own(response, "status");
  const code = status === undefined ? 200 : status;
  return PromiseResolve(code >= 200 && code < 300 ? mockBody(response) : "ERROR");
}
function mockFetchV2(url, options) {
  const key = StringOf(url);
  const response = mockedResponse(key);
  if (response === null) return PromiseReject(fetchError("fetchV2: no mock for GET " + key, undefined));
  const status = own(response, "status"), headers = own(response, "headers");
  return PromiseResolve({ url: key, status: status === undefined ? 200 : status,
    headers: headers === undefined ? {} : copyJSON(headers), body: mockBody(response) });
}
// The real fetch and fetchV2: the host performs the request (in the service, through the egress
// guard; the time spent waiting counts against the call's time limit) and answers in JSON. The
// options are read from their own properties, as a copy across an isolate boundary would.
function hostRequest(url, options) {
  const settings = options === undefined || options === null ? EMPTY_METADATA : options;
  const method = own(settings, "method");
  let headers = "";
  const given = own(settings, "headers");
  if (given !== undefined && given !== null && typeof given === "object") {
    const names = ObjectKeys(given);
    for (let i = 0; i < names.length; i++) headers = headers + StringOf(names[i]) + US + StringOf(given[names[i]]) + RS;
  }
  let body = null;
  const content = own(settings, "body");
  if (content !== undefined && content !== null) body = typeof content === "string" ? content : serialize(content, undefined);
  const answer = JSONparse(hostFetch(currentIndex, StringOf(url), method === undefined ? "GET" : StringOf(method), headers, body));
  return ObjectSetPrototypeOf(answer, null);
}
function realFetch(url, options) {
  let response;
  try { response = hostRequest(url, options); } catch (e) { return PromiseResolve("ERROR"); }
  if (response.error !== undefined || response.status < 200 || response.status >= 300) return PromiseResolve("ERROR");
  try { return PromiseResolve(JSONparse(response.body)); } catch (e) { return PromiseResolve("ERROR"); }
}
/// What fetchV2 rejects with, as rudder-transformer: a plain object (a serialised error), so it
/// keeps its text when user code returns or logs it — `{message}`, and node-fetch's `type` for
/// network failures (`system`) and timeouts (`request-timeout`).
function fetchError(message, kind) {
  const error = { message: StringOf(message) };
  if (kind === "network") error.type = "system";
  else if (kind === "timeout") error.type = "request-timeout";
  return error;
}
function realFetchV2(url, options) {
  if (url === undefined) return PromiseReject(fetchError("fetch url is required", undefined));
  let response;
  try { response = hostRequest(url, options); } catch (e) { return PromiseReject(e); }
  if (response.error !== undefined) return PromiseReject(fetchError(response.error, response.kind));
  let body = response.body;
  try { body = JSONparse(body); } catch (e) { /* not JSON: the text */ }
  return PromiseResolve({ url: response.url, status: response.status, headers: response.headers, body });
}

// geolocation(ip), as rudder-transformer's: the host validates the address (and, in the service,
// asks the operator's geolocation URL); test runs answer from the mock keyed "/geoip/<ip>".
// Rejections are plain objects `{message}`, as rudder's serialised errors, so they keep their
// text when returned or serialised.
function geolocationFailure(message) { return PromiseReject({ message }); }
function geolocation(ip) {
  if (!ip) return geolocationFailure("ip address is required");
  let address, answer;
  try {
    address = StringOf(ip);
    answer = ObjectSetPrototypeOf(JSONparse(hostFetch(currentIndex, address, fetchMocks === null ? "GEOLOCATION" : "GEOLOCATION-CHECK", "", null)), null);
  } catch (e) {
    return PromiseReject(e);
  }
  if (answer.error !== undefined) return geolocationFailure(answer.error);
  if (fetchMocks !== null) {
    const response = mockedResponse("/geoip/" + address);
    if (response === null) return geolocationFailure("geolocation: no mock for GET /geoip/" + address);
    const status = own(response, "status");
    if (status !== undefined && status !== 200) return geolocationFailure("request to fetch geolocation failed with status code: " + status);
    return PromiseResolve(mockBody(response));
  }
  try {
    return PromiseResolve(JSONparse(answer.body));
  } catch (e) {
    return geolocationFailure("invalid json response body at " + answer.url + " reason: " + parseErrorMessage(e));
  }
}
ReflectDefineProperty(globalObject, "geolocation", hiddenProperty(geolocation));

function installFetchMocks(mocksJSON) {
  fetchMocks = mocksJSON === "" ? null : JSONparse(mocksJSON);
  ReflectDefineProperty(globalObject, "fetch", hiddenProperty(fetchMocks === null ? realFetch : mockFetch));
  ReflectDefineProperty(globalObject, "fetchV2", hiddenProperty(fetchMocks === null ? realFetchV2 : mockFetchV2));
}

// ---- The protocol -------------------------------------------------------------------------
function begin(text, count, credentialsJSON, nonce, determinismJSON, mocksJSON, memoryBytes, memoryLimitMessage, literalsText) {
  restoreRealm();
  installDeterminism(determinismJSON === "" ? null : JSONparse(determinismJSON));
  installFetchMocks(mocksJSON);
  running = true;
  out = ""; logs = ""; unmocked = "";
  entry = null;
  items = newList();
  batchMark = -1; drainIndex = -1;
  cursor = 0;
  waiting = false; settledValue = undefined;
  messageIndex = null;
  currentIndex = -1;
  refusedSequence = 0;
  hooksAtSetUp = null; hooksBeforeCall = null;
  memoryBudget = memoryBytes;
  memoryMessage = memoryLimitMessage;
  credentials = credentialsJSON === "" ? null : JSONparse(credentialsJSON);
  eventCredentials = null;
  if (credentials !== null && ObjectHasOwn(credentials, "\u0000")) {
    eventCredentials = credentials["\u0000"];
    ReflectDeleteProperty(credentials, "\u0000");
  }
  if (nonce === -1) {
    for (let i = 0; i < text.length; i++) items[items.length] = parseItem(text[i]);
  } else if (nonce !== 0) {
    if (!parseJoined(text, count, nonce)) { items = newList(); return 1; }
  } else if (count !== 0) {
    parseSeparated(text);
  }
  integerLiterals = literalsText === "" ? null : parseIntegerLiterals(literalsText);
  evaluateModules();
  return 0;
}

/// Records the memory-limit error of the call that just ended when it asked for more than its
/// budget (whatever it then did with the RangeError), once.
function reportRefusal(index) {
  if (refusedSequence !== sequence) return false;
  refusedSequence = 0;
  if (index >= 0) pushError(index, "memory_limit", memoryMessage);
  else failBatch("memory_limit", memoryMessage);
  return true;
}

/// A promise job the last call left behind refused an allocation after its result was recorded:
/// the call failed after all.
function settleDrain() {
  if (drainIndex < 0 || refusedSequence !== sequence) return;
  refusedSequence = 0;
  out = sliceOf(out, 0, drainMark);
  pushError(drainIndex, "memory_limit", memoryMessage);
  drainIndex = -1;
}

function acceptEventResult(index, result) {
  if (result === null || result === undefined) { out = out + RS + "D" + index; return; }
  if (typeof result !== "object") { pushError(index, "invalid_result", NOT_AN_OBJECT); return; }
  let array;
  try { array = isArray(result); } catch (e) { pushError(index, "invalid_result", NOT_AN_OBJECT); return; }
  if (!array && !isOutputObject(result)) { pushError(index, "invalid_result", NOT_AN_OBJECT); return; }
  const literals = integerLiteralsOf(index);
  if (!array) {
    const text = outputText(index, result, literals, NOT_AN_OBJECT);
    if (text !== undefined) out = out + RS + "O" + index + US + text;
    return;
  }
  const elements = newList();
  const count = result.length;
  for (let i = 0; i < count; i++) {
    const element = result[i];
    if (!isOutputObject(element)) { pushError(index, "invalid_result", ELEMENT_NOT_AN_OBJECT); return; }
    elements[i] = element;
  }
  // All of them or none: the records are added in one step.
  let records = "";
  for (let i = 0; i < count; i++) {
    const text = outputText(index, elements[i], literals, ELEMENT_NOT_AN_OBJECT);
    if (text === undefined) return;
    records = records + RS + "O" + index + US + text;
  }
  out = out + (records === "" ? RS + "D" + index : records);
}

/// Every input of the batch fails; `call`: the transformBatch call itself threw or returned a
/// non-array (one failure of the call, `B` records), not a limit that ended it.
function failBatch(kind, message, call) {
  const letter = call ? "B" : "E";
  for (let i = 0; i < items.length; i++) {
    if (items[i].error === undefined) out = out + RS + letter + i + US + kind + US + JSONstringify(message);
  }
}

/// A transformBatch result: each element is an output tied to the input with its messageId
/// (inputs with none are dropped). A legacy `transform(events)` result ties no element to an
/// input (the host gives each new metadata), so every input counts as dropped.
function acceptBatchResult(result) {
  let array = false;
  try { array = isArray(result); } catch (e) { /* a revoked proxy */ }
  if (!array) { failBatch("invalid_result", legacy ? LEGACY_NOT_AN_ARRAY : BATCH_NOT_AN_ARRAY, !legacy); return; }
  const notAnObject = legacy ? LEGACY_ELEMENT_NOT_AN_OBJECT : BATCH_ELEMENT_NOT_AN_OBJECT;
  const literals = integerLiteralsOf(-1);
  const produced = new Uint8ArrayConstructor(items.length);
  const count = result.length;
  for (let i = 0; i < count; i++) {
    const element = result[i];
    if (!isOutputObject(element)) {
      pushError(-1, "invalid_result", notAnObject);
      continue;
    }
    const text = outputText(-1, element, literals, notAnObject);
    if (text === undefined) continue;
    const messageId = legacy ? undefined : element.messageId;
    const index = messageId === undefined ? -1 : indexOfMessageId(messageId);
    if (index >= 0) produced[index] = 1;
    out = out + RS + "O" + index + US + text;
  }
  for (let i = 0; i < items.length; i++) {
    if (!produced[i] && items[i].error === undefined) out = out + RS + "D" + i;
  }
}

// ---- Promises -----------------------------------------------------------------------------
// The result of an async call is awaited through the captured Promise.prototype.then, so a `then`,
// `constructor` or Symbol.species user code put on Promise.prototype or Promise cannot keep an
// event's promise from being seen (or make it seen as something else). Callbacks carry the
// call's sequence number: a promise abandoned by an earlier call cannot settle a later one.
const NO_SPECIES = ObjectFreeze({ __proto__: null });

function beginWaiting() {
  waiting = true;
  settled = false;
  settledValue = undefined;
  return sequence;
}

function settle(token, isError, value) {
  if (!waiting || token !== sequence || settled) return;
  settled = true;
  settledError = isError;
  settledValue = value;
}

function watchPromise(token, promise) {
  // then() creates its derived promise with the species of `promise.constructor`: an own
  // `constructor` without a species, for this one call, makes that the intrinsic Promise.
  const shielded = !ObjectHasOwn(promise, "constructor") && ReflectDefineProperty(promise, "constructor", hiddenProperty(NO_SPECIES));
  try {
    ReflectApply(promiseThen, promise, [(value) => settle(token, false, value), (error) => settle(token, true, error)]);
  } catch (e) {
    settle(token, true, e);  // an object made from Promise.prototype that is not a promise
  } finally {
    if (shielded) ReflectDeleteProperty(promise, "constructor");
  }
}

/// Calls a thenable's `then` now (under the call's limit), adopting what it resolves with.
function callThen(token, thenable, then) {
  let called = false;
  const resolve = (value) => { if (!called) { called = true; follow(token, value); } };
  const reject = (error) => { if (!called) { called = true; settle(token, true, error); } };
  try {
    ReflectApply(then, thenable, [resolve, reject]);
  } catch (e) {
    if (!called) { called = true; settle(token, true, e); }
  }
}

/// The `then` of an object, unless it comes from Object.prototype: a `then` there would make
/// every object a thenable, which is no sign of a promise (and would let one call turn the
/// results of the calls after it into whatever its `then` says).
function thenOf(value) {
  if (!("then" in value)) return undefined;  // the usual case; runs no user code but a proxy's trap
  let holder = value;
  while (holder !== null && !ObjectHasOwn(holder, "then")) holder = ReflectGetPrototypeOf(holder);
  return holder === null || holder === ObjectPrototype ? undefined : value.then;
}

function follow(token, value) {
  if (value !== null && typeof value === "object") {
    let then;
    try {
      if (ReflectGetPrototypeOf(value) === PromisePrototype) { watchPromise(token, value); return; }
      then = thenOf(value);
    } catch (e) {
      settle(token, true, e);
      return;
    }
    if (typeof then === "function") { callThen(token, value, then); return; }
  }
  settle(token, false, value);
}

/// Starts waiting for `result` when it is a promise or a thenable object; false when it is neither.
function startAwaiting(result) {
  if (result === null || typeof result !== "object") return false;
  if (ReflectGetPrototypeOf(result) === PromisePrototype) {
    watchPromise(beginWaiting(), result);
    return true;
  }
  const then = thenOf(result);
  if (typeof then !== "function") return false;
  callThen(beginWaiting(), result, then);
  return true;
}

function finishPending() {
  const index = cursor;
  const value = settledValue;
  waiting = false;
  settledValue = undefined;
  currentIndex = isBatch ? -1 : index;
  if (!reportRefusal(isBatch ? -1 : index)) {
    if (settledError) {
      const message = describeError(value);
      if (isBatch) failBatch("exception", message, !legacy);
      else pushError(index, "exception", message);
    } else if (isBatch) {
      acceptBatchResult(value);
    } else {
      acceptEventResult(index, value);
    }
  }
  endCall();
  cursor = isBatch ? items.length : index + 1;
}

/// The call threw (or its result could not be examined): its error, described under its limit.
function failCall(index, error) {
  waiting = false;
  if (!reportRefusal(index)) {
    const message = describeError(error);
    if (index >= 0) pushError(index, "exception", message);
    else failBatch("exception", message, !legacy);
  }
  endCall();
  cursor = index >= 0 ? index + 1 : items.length;
}

function stepBatch() {
  if (cursor >= items.length) return 0;
  const events = newList();
  for (let i = 0; i < items.length; i++) {
    if (items[i].error !== undefined) pushError(i, "invalid_input", items[i].error);
    else events[events.length] = items[i].message;
  }
  ObjectSetPrototypeOf(events, ArrayPrototype);
  if (events.length === 0) { cursor = items.length; return 0; }
  batchMark = out.length;
  startCall(-1);
  let result;
  try {
    result = legacy ? entry(events) : entry(events, metadataOf);
    if (startAwaiting(result)) return 1;
  } catch (e) {
    failCall(-1, e);
    return 0;
  }
  if (!reportRefusal(-1)) acceptBatchResult(result);
  endCall();
  cursor = items.length;
  return 0;
}

function step() {
  settleDrain();
  drainIndex = -1;  // the previous call's promise jobs drained without incident
  if (waiting) {
    if (!settled) return 2;
    finishPending();
  }
  if (isBatch) return stepBatch();
  while (cursor < items.length) {
    const index = cursor;
    const item = items[index];
    if (item.error !== undefined) { pushError(index, "invalid_input", item.error); cursor = index + 1; continue; }
    // After a memory-limit hit the modules are evaluated afresh before the next call.
    if (entry === null && !evaluateModules()) return 0;
    startCall(index);
    let result;
    try {
      result = entry(item.message, metadataOf);
      if (startAwaiting(result)) return 1;
    } catch (e) {
      failCall(index, e);
      continue;
    }
    drainIndex = index;
    drainMark = out.length;
    if (!reportRefusal(index)) acceptEventResult(index, result);
    currentIndex = -1;
    cursor = index + 1;
    // Return to the host after every call, with the call's sequence still in `control`: the
    // host's API call then drains the promise jobs this call queued (a `.then` it did not
    // await) under this call's time limit, before the next call starts.
    return 3;
  }
  endCall();
  return 0;
}

function fail(kind, message, reset) {
  endCall();
  waiting = false;
  refusedSequence = 0;
  restoreHiddenHooks();
  if (instantiating) {
    // The modules' evaluation hit the limit: nothing can run.
    instantiating = false;
    entry = null;
    failRemaining(kind, message);
  } else if (drainIndex >= 0) {
    // A promise job the last call left behind hit the limit after the call returned: the call
    // failed after all, so its results give way to the error.
    // If the limit hit while its result was being serialised, the call never finished: the
    // cursor still points at it and must not run it again.
    out = sliceOf(out, 0, drainMark);
    pushError(drainIndex, kind, message);
    if (cursor < drainIndex + 1) cursor = drainIndex + 1;
    drainIndex = -1;
  } else if (isBatch) {
    if (batchMark >= 0 && out.length > batchMark) out = sliceOf(out, 0, batchMark);
    failBatch(kind, message);
    cursor = items.length;
  } else {
    pushError(cursor, kind, message);
    cursor = cursor + 1;
  }
  // Not re-evaluated here, where the watchdog is paused: the next call does it, under its limit.
  if (reset && cursor < items.length) entry = null;
}

function finish() {
  endCall();
  const text = logs + unmocked + out;
  running = false;
  items = null; out = ""; logs = ""; unmocked = ""; entry = null; credentials = null; eventCredentials = null;
  messageIndex = null; integerLiterals = null;
  return text;
}

/// The records finished so far, handed to the host between calls (progress of a long batch);
/// they are not repeated by finish().
function take() {
  settleDrain();
  const text = logs + unmocked + out;
  logs = ""; unmocked = ""; out = "";
  drainIndex = -1;
  if (batchMark >= 0) batchMark = 0;
  return text;
}

function absorb() { return 0; }

// ---- The realm ----------------------------------------------------------------------------
// The realm every batch starts from. Each transformation has its own global object, so nothing
// reaches another tenant; but a batch that pollutes a prototype or a global would otherwise hand
// that to the next batch of the same transformation. The own properties (and prototypes) of the
// global object, of every built-in reachable from it and of the hidden intrinsics are recorded
// here, after the driver's own set-up (its globals and checked constructors), and put back at
// the start of every batch. A property made non-configurable (Object.freeze on a built-in)
// cannot be put back and stays as the code left it; the driver does not depend on any of them.
const realm = (function record() {
  const seen = new Set();
  const objects = [];
  function add(value) {
    if ((typeof value !== "object" || value === null) && typeof value !== "function") return;
    if (seen.has(value)) return;
    seen.add(value);
    objects.push(value);
  }
  function addWithMembers(value) {
    add(value);
    if ((typeof value !== "object" || value === null) && typeof value !== "function") return;
    for (const key of ReflectOwnKeys(value)) {
      const descriptor = ReflectGetOwnPropertyDescriptor(value, key);
      for (const member of [descriptor.value, descriptor.get, descriptor.set]) {
        add(member);
        if (typeof member === "function") add(member.prototype);
      }
    }
  }
  addWithMembers(globalObject);
  for (const key of ReflectOwnKeys(globalObject)) {
    const value = ReflectGetOwnPropertyDescriptor(globalObject, key).value;
    if (typeof value === "function") { addWithMembers(value); addWithMembers(value.prototype); }
    else addWithMembers(value);  // JSON, Math, Reflect, Intl, Atomics and their members
  }
  const hidden = [
    Object.getPrototypeOf(Int8Array), Object.getPrototypeOf(Int8Array.prototype),
    Object.getPrototypeOf([][Symbol.iterator]()), Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())),
    Object.getPrototypeOf(new Map()[Symbol.iterator]()), Object.getPrototypeOf(new Set()[Symbol.iterator]()),
    Object.getPrototypeOf(""[Symbol.iterator]()), Object.getPrototypeOf(/a/[Symbol.matchAll]("")),
    Object.getPrototypeOf(function* () {}), Object.getPrototypeOf(function* () {}).prototype,
    Object.getPrototypeOf(async function () {}), Object.getPrototypeOf(async function* () {}),
    Object.getPrototypeOf(async function* () {}).prototype,
    Object.getPrototypeOf(Object.getPrototypeOf(async function* () {}).prototype),
  ];
  for (const value of hidden) addWithMembers(value);
  const records = newList();
  for (const object of objects) {
    const keys = ReflectOwnKeys(object);
    const keySet = newDictionary();
    const descriptors = newList();
    for (let i = 0; i < keys.length; i++) {
      keySet[keys[i]] = true;
      descriptors[i] = ownDescriptor(object, keys[i]);
    }
    records[records.length] = { __proto__: null, object, prototype: ReflectGetPrototypeOf(object), keys: ObjectSetPrototypeOf(keys, null), keySet, descriptors };
  }
  return records;
})();
const objectPrototypeKeyCount = ReflectOwnKeys(ObjectPrototype).length;

function restoreRealm() {
  // Descriptors from the engine inherit from Object.prototype: read their fields directly only
  // while it has none of their names.
  const pristineDescriptors = !("value" in ObjectPrototype || "get" in ObjectPrototype || "set" in ObjectPrototype ||
    "writable" in ObjectPrototype || "enumerable" in ObjectPrototype || "configurable" in ObjectPrototype);
  for (let r = 0; r < realm.length; r++) {
    const record = realm[r];
    const object = record.object;
    if (ReflectGetPrototypeOf(object) !== record.prototype) ReflectSetPrototypeOf(object, record.prototype);
    const keys = ReflectOwnKeys(object);
    const saved = record.descriptors, savedKeys = record.keys;
    let missing = false;
    for (let i = 0; i < saved.length; i++) {
      const key = savedKeys[i];
      const current = pristineDescriptors ? ReflectGetOwnPropertyDescriptor(object, key) : ownDescriptor(object, key);
      if (current === undefined) missing = true;
      if (!sameDescriptor(current, saved[i])) ReflectDefineProperty(object, key, saved[i]);
    }
    if (keys.length !== savedKeys.length || missing) {
      for (let i = 0; i < keys.length; i++) if (record.keySet[keys[i]] !== true) ReflectDeleteProperty(object, keys[i]);
    }
  }
  realmTainted = ReflectOwnKeys(ObjectPrototype).length !== objectPrototypeKeyCount;
}

return [begin, step, fail, finish, absorb, take];
})
"""#
}
