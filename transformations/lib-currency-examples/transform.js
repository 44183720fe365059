// lib-currency-examples: runs the functions of libraries/currency.js on example arguments, so the library's
// behaviour is pinned by snapshot cases (libraries/currency.py is pinned by lib-currency-examples-py on the
// same inputs, with the same expected output).
// Each input event is {"messageId", "fn", "args"}; see libraries/examples.js for the output.
import { describe, normaliseCode, isKnownCurrency, usdRate, parseAmount, roundCents, toUSD } from "currency";
import { runExample } from "examples";

const FUNCTIONS = { describe, normaliseCode, isKnownCurrency, usdRate, parseAmount, roundCents, toUSD };

export function transformEvent(event, metadata) {
  return runExample(FUNCTIONS, event);
}
