// Direct tests of outputs.js: reading the host's list of the inputs' long integer literals.
import { test } from "node:test";
import assert from "node:assert/strict";
import { driverHelpers } from "./driver-parts.mjs";

const { parseIntegerLiterals, isOutputObject } = driverHelpers(["outputs"], ["parseIntegerLiterals", "isOutputObject"]);
const RS = "\x1e", US = "\x1f";

test("an input with an integer a double cannot hold keeps its literals by the double's text", () => {
  const byInput = parseIntegerLiterals("0" + US + "12345678901234567891" + US + "1234567890123456" + RS + "2" + US + "9007199254740993");
  assert.deepEqual({ ...byInput[0] }, { "12345678901234567000": "12345678901234567891", "1234567890123456": "1234567890123456" });
  assert.deepEqual({ ...byInput[2] }, { "9007199254740992": "9007199254740993" });
  assert.equal(byInput[1], undefined);
});

test("an input whose long integers are all exact needs nothing", () => {
  const byInput = parseIntegerLiterals("0" + US + "1234567890123456" + US + "9007199254740992");
  assert.equal(byInput.length, 0);
});

test("two literals of one input with the same double are kept as an ambiguity", () => {
  const byInput = parseIntegerLiterals("0" + US + "9007199254740993" + US + "9007199254740992");
  const entry = byInput[0]["9007199254740992"];
  assert.equal(entry.first, "9007199254740993");
  assert.equal(entry.second, "9007199254740992");
});

test("only plain objects are outputs (intrinsics.js)", () => {
  assert.equal(isOutputObject({ a: 1 }), true);
  assert.equal(isOutputObject(Object.create(null)), true);
  for (const value of [[], new Date(0), new Map(), null, "text", 1, new Error("e")]) assert.equal(isOutputObject(value), false);
});
