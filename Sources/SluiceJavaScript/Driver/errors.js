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
