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
  if (!running || logged > LOG_LIMIT) return;
  let text = "";
  for (let i = 0; i < args.length; i++) text = i === 0 ? formatLogArgument(args[i]) : text + " " + formatLogArgument(args[i]);
  const messageId = currentIndex >= 0 ? items[currentIndex].messageId : undefined;
  let line = JSONstringify(text);
  logged = logged + line.length;
  if (logged > LOG_LIMIT) line = JSONstringify(LOG_LIMIT_LINE);
  logs = logs + RS + "L" + currentIndex + US + line + US + (typeof messageId === "string" ? JSONstringify(messageId) : "");
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
