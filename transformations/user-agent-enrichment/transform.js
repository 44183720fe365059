// user-agent-enrichment: parses context.userAgent with the useragent library into context.device
// {browser, browserVersion, os, osVersion, deviceType} (deviceType: desktop, mobile, tablet or bot;
// anything not recognised is "unknown").
// - An existing context.device object keeps its other keys (the mobile SDKs' id, manufacturer,
//   model …); a context.device that is not an object is replaced (and logged).
// - Bots are flagged with context.device.isBot = true and a log line (BOT_ACTION = "drop" drops
//   them instead); an isBot already on a non-bot's device is removed.
// - Events without a userAgent string (missing, null, not a string, blank) pass unchanged.
import { parseUserAgent } from "useragent";

const BOT_ACTION = "flag"; // "flag" or "drop"

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

export function transformEvent(event, metadata) {
  const context = event.context;
  if (!isObject(context) || typeof context.userAgent !== "string") return event;
  if (context.userAgent.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "") === "") return event;
  const parsed = parseUserAgent(context.userAgent);
  const id = typeof event.messageId === "string" ? event.messageId : "(no messageId)";
  if (parsed.isBot && BOT_ACTION === "drop") {
    log(`dropped ${id}: bot ${parsed.browser}`);
    return null;
  }
  if (!isObject(context.device)) {
    if (context.device !== undefined && context.device !== null) log(`replaced context.device of ${id}: not an object`);
    context.device = {};
  }
  const device = context.device;
  device.browser = parsed.browser;
  device.browserVersion = parsed.browserVersion;
  device.os = parsed.os;
  device.osVersion = parsed.osVersion;
  device.deviceType = parsed.deviceType;
  if (parsed.isBot) {
    device.isBot = true;
    log(`flagged ${id}: bot ${parsed.browser}`);
  } else {
    delete device.isBot; // a stale flag from upstream
  }
  return event;
}
