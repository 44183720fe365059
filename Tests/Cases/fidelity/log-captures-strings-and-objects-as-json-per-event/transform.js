export function transformEvent(e) {
  log("plain", 42, {a: [1, "x"]}, null, undefined, true);
  console.log("via console");
  if (e.n === 2) log(new TypeError("shown"));
  return e;
}
