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
