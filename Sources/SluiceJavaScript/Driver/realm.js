// ---- The realm ----------------------------------------------------------------------------
// The realm every batch starts from. Each transformation has its own global object, so nothing
// reaches another tenant; but a batch that pollutes a prototype or a global would otherwise hand
// that to the next batch of the same transformation. The own properties (and prototypes) of the
// global object, of every built-in reachable from it and of the hidden intrinsics are recorded
// here, after the driver's own set-up (its globals and checked constructors), and put back at
// the start of every batch. A property made non-configurable (Object.freeze on a built-in)
// cannot be put back and stays as the code left it; the driver does not depend on any of them.
//
// Built-in methods (functions without a `prototype` of their own: Array.prototype.map, Date.now,
// accessors' getters and setters — 497 of the 642 objects, half of the 2,016 properties) are
// frozen instead of recorded: no code ever needs to add a property to one or change its `name`
// or `length`, and a frozen object cannot change, so it needs no check. That halves the restore
// (it ran at the start of every batch and cost ~1 µs per event at batches of 200). Where methods
// live — the prototypes, the constructors, the namespaces — stays writable and is put back.
// Function.prototype is callable and has no `prototype` either; it is a prototype, and stays
// writable.
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
  const FunctionPrototype = ReflectGetPrototypeOf(Object);
  for (const object of objects) {
    if (typeof object === "function" && object !== FunctionPrototype && !ObjectHasOwn(object, "prototype")) {
      ObjectFreeze(object);
      continue;
    }
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
