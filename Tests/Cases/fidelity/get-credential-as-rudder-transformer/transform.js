// rudder-transformer's getCredential: no key (or null/undefined) throws a TypeError; any other
// key is a property name (1 → "1", true → "true"); extra arguments are ignored.
export function transformEvent(e) {
  if (e.call === "none") return { v: getCredential() };
  if (e.call === "null") return { v: getCredential(null) };
  return { one: getCredential(1), yes: getCredential(true), extra: getCredential("key1", "key2") };
}
