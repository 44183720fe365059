// Direct tests of errors.js: which stack frames a user sees, and where.
import { test } from "node:test";
import assert from "node:assert/strict";
import { driverHelpers } from "./driver-parts.mjs";

const { formatStack } = driverHelpers(["errors"], ["formatStack"], { fileNames: ["transformation.js", "lib.js"], headerLines: 2 });

test("frames of the transformation's files are kept, with the host's header lines taken off", () => {
  const stack = "transformEvent@transformation.js:12:7\nhelper@lib.js:3:1\nglobal code@transformation.js:20:1";
  assert.equal(formatStack(stack), "    at transformEvent (transformation.js:10:7)\n    at helper (lib.js:1:1)\n    at transformation.js:18:1");
});

test("frames of the driver, of other files and of the header lines are left out", () => {
  const stack = "begin@sluice:driver:900:3\nx@other.js:5:5\nwrapper@transformation.js:2:9\ntransformEvent@transformation.js:3:4\n[native code]";
  assert.equal(formatStack(stack), "    at transformEvent (transformation.js:1:4)");
});

test("malformed frames and a stack that is not a string give nothing", () => {
  assert.equal(formatStack("f@transformation.js:x:1\ng@transformation.js:5\n@transformation.js"), "");
  assert.equal(formatStack(undefined), "");
  assert.equal(formatStack({ toString() { throw new Error("user code"); } }), "");
});
