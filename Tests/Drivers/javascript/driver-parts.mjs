// Runs parts of the JavaScript driver (Sources/SluiceJavaScript/Driver) in Node, without the
// Swift host: intrinsics.js opens the driver's function and captures the built-ins every other
// part uses; the chosen parts follow, and the function returns the named helpers.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import vm from "node:vm";

const driver = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "Sources", "SluiceJavaScript", "Driver");

/// The helpers `names` of intrinsics.js and `parts`, evaluated in a fresh realm with the driver's
/// arguments (`fileNames`: the transformation's files; `headerLines`: lines the host put before
/// the user's code).
export function driverHelpers(parts, names, { fileNames = [], headerLines = 0 } = {}) {
  const text = ["intrinsics", ...parts].map((part) => readFileSync(join(driver, part + ".js"), "utf8")).join("\n") +
    "\nreturn { " + names.join(", ") + " };\n})";
  const makeHelpers = vm.runInNewContext(text, {}, { filename: "sluice:driver" });
  return makeHelpers([], [], false, new Int32Array(2), fileNames, headerLines, null, false);
}
