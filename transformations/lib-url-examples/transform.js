// lib-url-examples: runs the functions of libraries/url.js on example arguments, so the library's
// behaviour is pinned by snapshot cases (libraries/url.py is pinned by lib-url-examples-py on the
// same inputs, with the same expected output).
// Each input event is {"messageId", "fn", "args"}; see libraries/examples.js for the output.
import { decodeComponent, queryString, parseQuery, utmFields } from "url";
import { runExample } from "examples";

const FUNCTIONS = { decodeComponent, queryString, parseQuery, utmFields };

export function transformEvent(event, metadata) {
  return runExample(FUNCTIONS, event);
}
