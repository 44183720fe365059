// examples: runs a library function named by an example event, for the lib-*-examples
// transformations that pin libraries with snapshot cases.
//
//   import { runExample } from "examples";
//   export const transformEvent = (event) => runExample({ parseQuery, utmFields }, event);
//
// The event is {"messageId", "fn", "args"}; the result is {"messageId", "fn", "args", "result"},
// or {…, "error": "<ErrorName>: <message>"} when the function throws (caught so JavaScript and
// Python snapshots stay identical; their stacks would not).
export function runExample(functions, event) {
  const args = Array.isArray(event.args) ? event.args : [];
  const base = { messageId: event.messageId, fn: event.fn, args };
  const fn = Object.prototype.hasOwnProperty.call(functions, event.fn) ? functions[event.fn] : undefined;
  if (typeof fn !== "function") return { ...base, error: `unknown function ${event.fn}` };
  try {
    return { ...base, result: fn(...args) };
  } catch (error) {
    return { ...base, error: `${error.name}: ${error.message}` };
  }
}
