// lib-useragent-examples: runs the useragent library on example calls, so that its behaviour is
// pinned by snapshot cases. Each input is {"messageId", "call", "args": [...]}; the output is the
// input with "result" set to what the library function returned.
import { parseUserAgent, isBot, botName } from "useragent";

const FUNCTIONS = { parseUserAgent, isBot, botName };

export function transformEvent(event, metadata) {
  const fn = Object.prototype.hasOwnProperty.call(FUNCTIONS, event.call) ? FUNCTIONS[event.call] : null;
  if (fn === null) {
    event.error = "unknown function";
    return event;
  }
  const args = Array.isArray(event.args) ? event.args : [];
  event.result = fn(...args);
  return event;
}
