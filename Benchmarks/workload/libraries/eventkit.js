// eventkit: helpers of Sluice's own benchmark workload (Benchmarks/workload).
//
//   import { fingerprint, withoutNulls, orderTotal } from "eventkit";

/** 32-bit FNV-1a of a string's UTF-16 code units, as 8 hex digits. */
export function fingerprint(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(16).padStart(8, "0");
}

/** A copy of an object without its null-valued keys (one level deep). */
export function withoutNulls(object) {
  const copy = {};
  for (const [key, value] of Object.entries(object)) {
    if (value !== null) copy[key] = value;
  }
  return copy;
}

/** The sum of price × quantity over an order's products, rounded to cents. */
export function orderTotal(products) {
  let total = 0;
  for (const product of products) total += (product.price || 0) * (product.quantity || 1);
  return Math.round(total * 100) / 100;
}
