// ---- The protocol -------------------------------------------------------------------------
function begin(text, count, credentialsJSON, nonce, determinismJSON, mocksJSON, memoryBytes, memoryLimitMessage, literalsText) {
  restoreRealm();
  installDeterminism(determinismJSON === "" ? null : JSONparse(determinismJSON));
  installFetchMocks(mocksJSON);
  running = true;
  out = ""; logs = ""; unmocked = ""; logged = 0;
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
