// lib-pii-examples: runs the pii library on example calls, so that its behaviour is pinned by
// snapshot cases. Each input is {"messageId", "call", "args": [...]}; the output is the input with
// "result" set to what the library function returned.
import { luhnValid, maskEmail, maskPhone, maskCard, findPii, maskText, maskDeep } from "pii";

const FUNCTIONS = { luhnValid, maskEmail, maskPhone, maskCard, findPii, maskText, maskDeep };

export function transformEvent(event, metadata) {
  const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, event.call) ? FUNCTIONS[event.call] : null;
  if (fn === null) {
    event.error = "unknown function";
    return event;
  }
  const args = Array.isArray(event.args) ? event.args : [];
  // maskDeep changes objects in place: give it a copy so that "args" still shows the input.
  const callArgs = JSON.parse(JSON.stringify(args));
  event.result = fn(...callArgs);
  return event;
}
