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
