/// The JavaScript side of a compiled transformation: evaluated once per transformation context,
/// it holds the module factories and runs batches against fresh module instances.
///
/// Protocol with ``JavaScriptVM`` (all strings, to keep the C API bridge to one string in and
/// one out per batch):
/// - `begin(itemsText, count, credentialsJSON, nonce)`: parses the items and evaluates a fresh
///   module instance. With a nonzero `nonce` the text is `[item0,nonce,item1,nonce,…]` and is
///   parsed in one go; begin returns 1 when that text is not exactly `count` items (a malformed
///   item), and the host calls again with nonce 0 and the items joined with U+001E, parsed one
///   by one so each bad item fails alone. Returns 0 when ready.
/// - `step()`: runs calls from the cursor on. 0 = done; 1 = waiting for the promise of the
///   current event (return to the host so microtasks drain, then call `step()` again);
///   2 = that promise is still pending with nothing left that could settle it; 3 = one
///   synchronous call done (returning lets the promise jobs it queued drain under its time
///   limit before the next call; call `step()` again).
/// - `fail(kind, message)`: ends the current call with an error (after a termination).
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
/// sequence number while user code runs for a call and 0 while the driver itself works;
/// `control[1]` the input index of the current (or last) call, -1 for a batch call.
enum DriverSource {
    static let fileName = "sluice:driver"

    static let code = #"""
(function (factories, dependencies, isBatch, control, fileNames, headerLines, hostFetch) {
"use strict";
const JSONparse = JSON.parse, JSONstringify = JSON.stringify;
// Largest JSON text of one returned event (32 Mi UTF-16 units): larger ones fail that event, so
// one runaway output cannot swamp the response or the worker channel.
const MAXIMUM_OUTPUT = 32 * 1024 * 1024;
function outputText(value) {
  const text = JSONstringify(value);
  if (typeof text === "string" && text.length > MAXIMUM_OUTPUT) {
    throw new RangeError("returned event is " + Math.floor(text.length / 1048576) + " MB of JSON, past the limit of 32 MB for one output");
  }
  return text;
}
const isArray = Array.isArray, StringOf = String, ObjectKeys = Object.keys, ObjectFreeze = Object.freeze;
const PromiseResolve = Promise.resolve.bind(Promise), promiseThen = Promise.prototype.then;
const ENVELOPE_KEYS = new Set(["message", "metadata", "destination", "libraries", "credentials"]);
const RS = "\x1e", US = "\x1f";
const files = new Set(fileNames);

let sequence = 0;
let items = null, out = null, logs = null, entry = null, credentials = null, eventCredentials = null;
let cursor = 0, waiting = false, settled = false, settledValue = undefined, settledError = false;
let currentIndex = -1, metadataByMessageId = null;
let drainIndex = -1, drainMark = 0;
// Where a transformBatch call's records start in `out`: a limit hit while its results are being
// accepted takes back the outputs already recorded, so no input gets an output and an error.
let batchMark = -1;

function isObject(v) { return v !== null && typeof v === "object" && !isArray(v); }

function formatLogArgument(value) {
  if (typeof value === "string") return value;
  if (value instanceof Error) return describeError(value);
  try {
    const text = JSONstringify(value);
    return text === undefined ? StringOf(value) : text;
  } catch (e) {
    return StringOf(value);
  }
}

function log(...args) {
  if (logs === null) return;
  const text = args.map(formatLogArgument).join(" ");
  const item = currentIndex >= 0 ? items[currentIndex] : null;
  const messageId = item && item.message && typeof item.message.messageId === "string" ? JSONstringify(item.message.messageId) : "";
  logs.push("L" + currentIndex + US + JSONstringify(text) + US + messageId);
}

function getCredential(key) {
  if (typeof key !== "string") return undefined;
  // An event that carries its own credentials reads only those; the others read the request's.
  if (eventCredentials !== null && currentIndex >= 0 && Object.prototype.hasOwnProperty.call(eventCredentials, currentIndex)) {
    const own = eventCredentials[currentIndex];
    return Object.prototype.hasOwnProperty.call(own, key) ? own[key] : undefined;
  }
  if (credentials === null) return undefined;
  return Object.prototype.hasOwnProperty.call(credentials, key) ? credentials[key] : undefined;
}

// Only ECMAScript built-ins plus the documented host functions: WebAssembly is not ECMAScript,
// and compiled wasm code is not covered by the watchdog's polling traps.
delete globalThis.WebAssembly;
Object.defineProperty(globalThis, "log", { value: log, writable: true, configurable: true });
Object.defineProperty(globalThis, "getCredential", { value: getCredential, writable: true, configurable: true });
Object.defineProperty(globalThis, "console", {
  value: Object.freeze({ log, info: log, warn: log, error: log, debug: log }),
  writable: true, configurable: true,
});

function formatStack(stack) {
  if (typeof stack !== "string") return "";
  const frames = [];
  for (const line of stack.split("\n")) {
    const at = line.lastIndexOf("@");
    const location = at >= 0 ? line.slice(at + 1) : line;
    const name = at >= 0 ? line.slice(0, at) : "";
    const match = /^(.*):(\d+):(\d+)$/.exec(location);
    if (match === null || !files.has(match[1])) continue;
    const lineNumber = Number(match[2]) - headerLines;
    if (lineNumber < 1) continue;
    const where = match[1] + ":" + lineNumber + ":" + match[3];
    frames.push(name && name !== "global code" ? "    at " + name + " (" + where + ")" : "    at " + where);
  }
  return frames.join("\n");
}

function describeError(error) {
  if (error instanceof Error) {
    let name = error.name;
    if (typeof name !== "string" || name === "" || name === "Error") {
      const constructorName = error.constructor && error.constructor.name;
      name = typeof constructorName === "string" && constructorName !== "" ? constructorName : "Error";
    }
    const message = typeof error.message === "string" ? error.message : StringOf(error.message);
    const head = message === "" ? name : name + ": " + message;
    const frames = formatStack(error.stack);
    return frames === "" ? head : head + "\n" + frames;
  }
  let text;
  try { text = typeof error === "string" ? error : JSONstringify(error); } catch (e) { text = undefined; }
  if (text === undefined) { try { text = StringOf(error); } catch (e) { text = "(a value that cannot be printed)"; } }
  return "Uncaught " + (error === null ? "null" : typeof error) + ": " + text;
}

function pushError(index, kind, message) {
  out.push("E" + index + US + kind + US + JSONstringify(message));
}

function metadataOf(event) {
  if (!isObject(event)) return {};
  if (metadataByMessageId === null) {
    metadataByMessageId = new Map();
    for (const item of items) {
      if (item.message !== undefined && isObject(item.message) && item.message.messageId !== undefined && !metadataByMessageId.has(item.message.messageId)) {
        metadataByMessageId.set(item.message.messageId, item.metadata);
      }
    }
  }
  const found = metadataByMessageId.get(event.messageId);
  return found === undefined ? {} : found;
}

function indexOfMessageId(messageId) {
  for (let i = 0; i < items.length; i++) {
    const m = items[i].message;
    if (m !== undefined && isObject(m) && m.messageId === messageId) return i;
  }
  return -1;
}

function parseItem(text) {
  let value;
  try {
    value = JSONparse(text);
  } catch (e) {
    return { error: "invalid JSON: " + (e && e.message ? e.message : StringOf(e)) };
  }
  return classifyItem(value);
}

function classifyItem(value) {
  if (!isObject(value)) {
    return { error: "invalid event: expected a JSON object, got " + (value === null ? "null" : isArray(value) ? "an array" : typeof value) };
  }
  const message = value.message;
  if (isObject(message)) {
    let envelope = true;
    for (const key of ObjectKeys(value)) if (!ENVELOPE_KEYS.has(key)) { envelope = false; break; }
    if (envelope) {
      const metadata = value.metadata;
      if (metadata !== undefined && metadata !== null && !isObject(metadata)) {
        return { error: "invalid envelope: metadata must be an object" };
      }
      return { message, metadata: metadata == null ? {} : metadata };
    }
  }
  return { message: value, metadata: typeof value.messageId === "string" ? { messageId: value.messageId } : {} };
}

/// Fast path: the whole batch in one JSON.parse, as `[item0,N,item1,N,…]` where N is a random
/// number chosen per batch. A malformed item shifts the structure (or hides N), so unless every
/// odd element is N the host resends the items one by one (`split` form).
function parseJoined(text, count, nonce) {
  let values;
  try { values = JSONparse(text); } catch (e) { return false; }
  if (!isArray(values) || values.length !== 2 * count) return false;
  for (let i = 1; i < values.length; i += 2) if (values[i] !== nonce) return false;
  for (let i = 0; i < values.length; i += 2) items.push(classifyItem(values[i]));
  return true;
}

function instantiate() {
  const instances = [];
  for (let i = 0; i < factories.length; i++) {
    const deps = dependencies[i];
    const args = [ObjectFreeze];
    for (let j = 0; j < deps.length; j++) args.push(instances[deps[j]]);
    instances.push(factories[i].apply(undefined, args));
  }
  const namespace = instances[instances.length - 1];
  const name = isBatch ? "transformBatch" : "transformEvent";
  const fn = namespace[name];
  if (typeof fn !== "function") throw new TypeError(name + " is not a function");
  return fn;
}

// Determinism for test and replay runs: a fixed clock and a seeded Math.random, installed for
// one batch and removed by the next one that does not ask for them.
const RealDate = Date, realRandom = Math.random;
function installDeterminism(settings) {
  if (settings === null) {
    globalThis.Date = RealDate;
    RealDate.prototype.constructor = RealDate;
    Math.random = realRandom;
    return;
  }
  const fixedNow = settings.now;
  const FixedDate = function Date(...args) {
    if (new.target === undefined) return new RealDate(fixedNow).toString();
    // Subclasses (`class D extends Date`) keep their prototype.
    return Reflect.construct(RealDate, args.length === 0 ? [fixedNow] : args, new.target);
  };
  Object.setPrototypeOf(FixedDate, RealDate);
  FixedDate.prototype = RealDate.prototype;
  FixedDate.now = () => fixedNow;
  globalThis.Date = FixedDate;
  RealDate.prototype.constructor = FixedDate;
  let state = settings.seed >>> 0;
  Math.random = function random() {
    // mulberry32
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// fetch and fetchV2 answered from mocks (test runs); the real ones come with the sandbox.
let unmocked = null;
function mockedResponse(url) {
  const mocks = fetchMocks;
  const key = StringOf(url);
  if (mocks !== null && Object.prototype.hasOwnProperty.call(mocks, key)) return mocks[key];
  unmocked.push("F" + currentIndex + US + JSONstringify("GET " + key));
  return null;
}
function mockBody(response) {
  const body = response.body === undefined ? null : response.body;
  return JSONparse(JSONstringify(body));
}
function mockFetch(url, options) {
  const response = mockedResponse(url);
  if (response === null) return PromiseResolve("ERROR");
  const status = response.status === undefined ? 200 : response.status;
  return PromiseResolve(status >= 200 && status < 300 ? mockBody(response) : "ERROR");
}
function mockFetchV2(url, options) {
  const response = mockedResponse(url);
  if (response === null) return Promise.reject(new TypeError("fetchV2: no mock for GET " + StringOf(url)));
  return PromiseResolve({ url: StringOf(url), status: response.status === undefined ? 200 : response.status,
    headers: response.headers === undefined ? {} : response.headers, body: mockBody(response) });
}
let fetchMocks = null;
// The real fetch and fetchV2: the host performs the request (in the service, through the egress
// guard; the time spent waiting counts against the call's time limit) and answers in JSON.
function hostRequest(url, options) {
  const settings = options === undefined || options === null ? {} : options;
  const method = settings.method === undefined ? "GET" : StringOf(settings.method);
  let headers = "";
  if (settings.headers !== undefined && settings.headers !== null && typeof settings.headers === "object") {
    const names = ObjectKeys(settings.headers);
    for (let i = 0; i < names.length; i++) headers += StringOf(names[i]) + US + StringOf(settings.headers[names[i]]) + RS;
  }
  let body = null;
  if (settings.body !== undefined && settings.body !== null) body = typeof settings.body === "string" ? settings.body : JSONstringify(settings.body);
  return JSONparse(hostFetch(currentIndex, StringOf(url), method, headers, body));
}
function realFetch(url, options) {
  let response;
  try { response = hostRequest(url, options); } catch (e) { return PromiseResolve("ERROR"); }
  if (response.error !== undefined || response.status < 200 || response.status >= 300) return PromiseResolve("ERROR");
  try { return PromiseResolve(JSONparse(response.body)); } catch (e) { return PromiseResolve("ERROR"); }
}
function realFetchV2(url, options) {
  let response;
  try { response = hostRequest(url, options); } catch (e) { return Promise.reject(e); }
  if (response.error !== undefined) return Promise.reject(new TypeError(response.error));
  let body = response.body;
  try { body = JSONparse(body); } catch (e) { /* not JSON: the text */ }
  return PromiseResolve({ url: response.url, status: response.status, headers: response.headers, body });
}

function installFetchMocks(mocksJSON) {
  if (mocksJSON === "") {
    fetchMocks = null;
    Object.defineProperty(globalThis, "fetch", { value: realFetch, writable: true, configurable: true });
    Object.defineProperty(globalThis, "fetchV2", { value: realFetchV2, writable: true, configurable: true });
    return;
  }
  fetchMocks = JSONparse(mocksJSON);
  Object.defineProperty(globalThis, "fetch", { value: mockFetch, writable: true, configurable: true });
  Object.defineProperty(globalThis, "fetchV2", { value: mockFetchV2, writable: true, configurable: true });
}

function begin(text, count, credentialsJSON, nonce, determinismJSON, mocksJSON) {
  restoreRealm();
  installDeterminism(determinismJSON === "" ? null : JSONparse(determinismJSON));
  installFetchMocks(mocksJSON);
  unmocked = [];
  entry = null;
  items = [];
  out = [];
  batchMark = -1;
  logs = [];
  cursor = 0;
  waiting = false;
  metadataByMessageId = null;
  currentIndex = -1;
  credentials = credentialsJSON === "" ? null : JSONparse(credentialsJSON);
  eventCredentials = null;
  if (credentials !== null && Object.prototype.hasOwnProperty.call(credentials, "\u0000")) {
    eventCredentials = credentials["\u0000"];
    delete credentials["\u0000"];
  }
  if (nonce === -1) {
    for (let i = 0; i < text.length; i++) items.push(parseItem(text[i]));
  } else if (nonce !== 0) {
    if (!parseJoined(text, count, nonce)) { items = []; return 1; }
  } else {
    const parts = count === 0 ? [] : text.split(RS);
    for (let i = 0; i < parts.length; i++) items.push(parseItem(parts[i]));
  }
  control[1] = -1;
  try {
    sequence = (sequence + 1) | 0 || 1;
    control[0] = sequence;
    entry = instantiate();
    control[0] = 0;
  } catch (e) {
    control[0] = 0;
    entry = null;
    failAll("exception", describeError(e));
  }
  return 0;
}

/// Fails every input before any call ran (the module did not load): invalid inputs keep their own error.
function failAll(kind, message) {
  for (let i = 0; i < items.length; i++) {
    if (items[i].error !== undefined) pushError(i, "invalid_input", items[i].error);
    else pushError(i, kind, message);
  }
  cursor = items.length;
}

/// Re-evaluates the modules after a memory-limit hit, so state held by the module instance is released.
function reinstantiate() {
  try { entry = instantiate(); } catch (e) { entry = null; }
}

function acceptEventResult(index, result) {
  if (result === null || result === undefined) { out.push("D" + index); return; }
  if (isArray(result)) {
    const texts = [];
    for (const element of result) {
      if (!isObject(element)) {
        pushError(index, "invalid_result", "returned event in events array from transformEvent(event) is not an object");
        return;
      }
    }
    for (const element of result) {
      let text;
      try { text = outputText(element); } catch (e) { pushError(index, "unserializable_result", describeError(e)); return; }
      if (typeof text !== "string") { pushError(index, "unserializable_result", "returned event cannot be serialised as JSON"); return; }
      texts.push(text);
    }
    if (texts.length === 0) { out.push("D" + index); return; }
    for (const text of texts) out.push("O" + index + US + text);
    return;
  }
  if (typeof result !== "object") {
    pushError(index, "invalid_result", "returned event from transformEvent(event) is not an object");
    return;
  }
  let text;
  try { text = outputText(result); } catch (e) { pushError(index, "unserializable_result", describeError(e)); return; }
  if (typeof text !== "string") { pushError(index, "unserializable_result", "returned event cannot be serialised as JSON"); return; }
  out.push("O" + index + US + text);
}

function acceptBatchResult(result) {
  if (!isArray(result)) {
    for (let i = 0; i < items.length; i++) if (items[i].error === undefined) pushError(i, "invalid_result", "returned events from transformBatch(event) is not an array");
    return;
  }
  const produced = new Uint8Array(items.length);
  for (const element of result) {
    if (!isObject(element)) {
      pushError(-1, "invalid_result", "returned event in events array from transformBatch(events) is not an object");
      continue;
    }
    let text;
    try { text = outputText(element); } catch (e) { pushError(-1, "unserializable_result", describeError(e)); continue; }
    if (typeof text !== "string") { pushError(-1, "unserializable_result", "returned event cannot be serialised as JSON"); continue; }
    const index = element.messageId === undefined ? -1 : indexOfMessageId(element.messageId);
    if (index >= 0) produced[index] = 1;
    out.push("O" + index + US + text);
  }
  for (let i = 0; i < items.length; i++) {
    if (!produced[i] && items[i].error === undefined) out.push("D" + i);
  }
}

/// Waits for the promise of the current call. Its callbacks carry the call's sequence number, so
/// a promise abandoned by an earlier call (one that "never settled") cannot settle a later one.
function awaitResult(result) {
  const token = sequence;
  waiting = true; settled = false;
  promiseThen.call(PromiseResolve(result),
    (value) => { if (waiting && token === sequence) { settled = true; settledError = false; settledValue = value; } },
    (error) => { if (waiting && token === sequence) { settled = true; settledError = true; settledValue = error; } });
}

function isThenable(value) {
  return value instanceof Promise || (value !== null && typeof value === "object" && typeof value.then === "function");
}

function finishPending() {
  const index = cursor;
  waiting = false;
  currentIndex = isBatch ? -1 : index;
  if (settledError) {
    if (isBatch) { for (let i = 0; i < items.length; i++) if (items[i].error === undefined) pushError(i, "exception", describeError(settledValue)); }
    else pushError(index, "exception", describeError(settledValue));
  } else if (isBatch) {
    acceptBatchResult(settledValue);
  } else {
    acceptEventResult(index, settledValue);
  }
  control[0] = 0;
  settledValue = undefined;
  currentIndex = -1;
  cursor = isBatch ? items.length : index + 1;
}

function step() {
  drainIndex = -1;  // the previous call's promise jobs drained without incident
  if (waiting) {
    if (!settled) return 2;
    finishPending();
  }
  if (entry === null) { cursor = items.length; return 0; }
  if (isBatch) {
    if (cursor >= items.length) return 0;
    const events = [];
    for (let i = 0; i < items.length; i++) {
      if (items[i].error !== undefined) pushError(i, "invalid_input", items[i].error);
      else events.push(items[i].message);
    }
    if (events.length === 0) { cursor = items.length; return 0; }
    batchMark = out.length;
    let result;
    sequence = (sequence + 1) | 0 || 1;
    control[1] = -1;
    control[0] = sequence;
    try {
      result = entry(events, metadataOf);
    } catch (e) {
      const message = describeError(e);
      control[0] = 0;
      for (let i = 0; i < items.length; i++) if (items[i].error === undefined) pushError(i, "exception", message);
      cursor = items.length;
      return 0;
    }
    if (isThenable(result)) {
      awaitResult(result);
      return 1;
    }
    acceptBatchResult(result);
    control[0] = 0;
    cursor = items.length;
    return 0;
  }
  while (cursor < items.length) {
    const index = cursor;
    const item = items[index];
    if (item.error !== undefined) { pushError(index, "invalid_input", item.error); cursor = index + 1; continue; }
    currentIndex = index;
    sequence = (sequence + 1) | 0 || 1;
    control[1] = index;
    control[0] = sequence;
    let result;
    try {
      result = entry(item.message, metadataOf);
    } catch (e) {
      pushError(index, "exception", describeError(e));
      control[0] = 0;
      currentIndex = -1;
      cursor = index + 1;
      continue;
    }
    if (isThenable(result)) {
      awaitResult(result);
      return 1;
    }
    drainIndex = index;
    drainMark = out.length;
    acceptEventResult(index, result);
    currentIndex = -1;
    cursor = index + 1;
    // Return to the host after every call, with the call's sequence still in `control`: the
    // host's API call then drains the promise jobs this call queued (a `.then` it did not
    // await) under this call's time limit, before the next call starts.
    return 3;
  }
  control[0] = 0;
  return 0;
}

function fail(kind, message, reset) {
  control[0] = 0;
  waiting = false;
  currentIndex = -1;
  if (drainIndex >= 0) {
    // A promise job the last call left behind hit the limit after the call returned: the call
    // failed after all, so its results give way to the error.
    // If the limit hit while its result was being serialised, the call never finished: the
    // cursor still points at it and must not run it again.
    out.length = drainMark;
    pushError(drainIndex, kind, message);
    cursor = Math.max(cursor, drainIndex + 1);
    drainIndex = -1;
  } else if (entry === null) {
    failAll(kind, message);
  } else if (isBatch) {
    if (batchMark >= 0 && out.length > batchMark) out.length = batchMark;
    for (let i = 0; i < items.length; i++) if (items[i].error === undefined) pushError(i, kind, message);
    cursor = items.length;
  } else {
    pushError(cursor, kind, message);
    cursor = cursor + 1;
  }
  if (reset) reinstantiate();
}

function finish() {
  control[0] = 0;
  const text = logs.concat(unmocked, out).join(RS);
  items = null; out = null; logs = null; entry = null; credentials = null; eventCredentials = null; metadataByMessageId = null;
  return text;
}

/// The records finished so far, handed to the host between calls (progress of a long batch);
/// they are not repeated by finish().
function take() {
  const text = logs.concat(unmocked, out).join(RS);
  logs = []; unmocked = []; out = [];
  drainIndex = -1; batchMark = -1;
  return text;
}

function absorb() { return 0; }

// The realm every batch starts from. Each transformation has its own global object, so nothing
// reaches another tenant; but a batch that pollutes a prototype or a global would otherwise hand
// that to the next batch of the same transformation. The own properties (and prototypes) of the
// global object, of every built-in reachable from it and of the hidden intrinsics are recorded
// here, after the driver's own set-up, and put back at the start of every batch — with functions
// captured now, since user code may have replaced the public ones. A property made
// non-configurable (Object.freeze on a built-in) cannot be put back and stays as the code left it.
const ReflectOwnKeys = Reflect.ownKeys, ReflectGetOwnPropertyDescriptor = Reflect.getOwnPropertyDescriptor;
const ReflectDefineProperty = Reflect.defineProperty, ReflectDeleteProperty = Reflect.deleteProperty;
const ReflectGetPrototypeOf = Reflect.getPrototypeOf, ReflectSetPrototypeOf = Reflect.setPrototypeOf;
const ReflectApply = Reflect.apply, SetHas = Set.prototype.has, ObjectSetPrototypeOf = Object.setPrototypeOf;
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
  addWithMembers(globalThis);
  for (const key of ReflectOwnKeys(globalThis)) {
    const value = ReflectGetOwnPropertyDescriptor(globalThis, key).value;
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
  const records = [];
  for (const object of objects) {
    const keys = ReflectOwnKeys(object);
    const descriptors = [];
    for (let i = 0; i < keys.length; i++) {
      // Without a prototype, so a polluted Object.prototype.get cannot change what it describes.
      descriptors.push(ObjectSetPrototypeOf(ReflectGetOwnPropertyDescriptor(object, keys[i]), null));
    }
    records.push({ object, prototype: ReflectGetPrototypeOf(object), keys, keySet: new Set(keys), descriptors });
  }
  return records;
})();

function sameDescriptor(a, b) {
  return a !== undefined && a.value === b.value && a.get === b.get && a.set === b.set &&
    a.writable === b.writable && a.enumerable === b.enumerable && a.configurable === b.configurable;
}

function restoreRealm() {
  for (let r = 0; r < realm.length; r++) {
    const record = realm[r];
    const object = record.object;
    if (ReflectGetPrototypeOf(object) !== record.prototype) ReflectSetPrototypeOf(object, record.prototype);
    const keys = ReflectOwnKeys(object);
    if (keys.length !== record.keys.length) {
      for (let i = 0; i < keys.length; i++) {
        if (!ReflectApply(SetHas, record.keySet, [keys[i]])) ReflectDeleteProperty(object, keys[i]);
      }
    }
    const saved = record.descriptors;
    for (let i = 0; i < saved.length; i++) {
      const key = record.keys[i];
      if (!sameDescriptor(ReflectGetOwnPropertyDescriptor(object, key), saved[i])) ReflectDefineProperty(object, key, saved[i]);
    }
  }
}

return [begin, step, fail, finish, absorb, take];
})
"""#
}
