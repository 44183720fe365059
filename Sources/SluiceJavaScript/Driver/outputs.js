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
