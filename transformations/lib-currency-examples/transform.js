// lib-currency-examples: runs the functions of libraries/currency.js on example arguments, so the library's
// behaviour is pinned by snapshot cases (libraries/currency.py is pinned by lib-currency-examples-py on the
// same inputs, with the same expected output).
//
// Each input event is {"messageId", "fn", "args"}: fn is the JavaScript name of a library
// function, args the list of its arguments. The output is {"messageId", "fn", "args", "result"},
// or {"messageId", "fn", "args", "error": "<ErrorName>: <message>"} when the function throws
// (caught here so the JavaScript and Python snapshots stay identical; their stacks would not).
import { describe, normaliseCode, isKnownCurrency, usdRate, parseAmount, roundCents, toUSD } from "currency";

const FUNCTIONS = new Map(Object.entries({ describe, normaliseCode, isKnownCurrency, usdRate, parseAmount, roundCents, toUSD }));

export function transformEvent(event, metadata) {
  const args = Array.isArray(event.args) ? event.args : [];
  const base = { messageId: event.messageId, fn: event.fn, args };
  const fn = FUNCTIONS.get(event.fn);
  if (fn === undefined) return { ...base, error: `unknown function ${event.fn}` };
  try {
    return { ...base, result: fn(...args) };
  } catch (error) {
    return { ...base, error: `${error.name}: ${error.message}` };
  }
}
