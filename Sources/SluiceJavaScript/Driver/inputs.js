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
