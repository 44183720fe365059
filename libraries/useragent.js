// useragent: a small, dependency-free User-Agent parser for the common agents (the JavaScript twin
// of useragent.py; both give the same result for the same string).
//
//   import { parseUserAgent, isBot } from "useragent";
//   parseUserAgent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) … Version/17.4 Mobile/15E148 Safari/604.1")
//   // {browser: "Safari", browserVersion: "17.4", os: "iOS", osVersion: "17.4", deviceType: "mobile", isBot: false}
//
// Browsers: Edge, Opera, Samsung Internet, Firefox, Chrome, Safari, Internet Explorer.
// Systems: iOS, Android, Windows, macOS, Chrome OS, Linux.
// Device types: desktop, mobile, tablet, bot; anything not recognised is "unknown".
// Patterns use [0-9] rather than \d so that both languages match the same characters.

export const UNKNOWN = "unknown";

// Bots and non-browser HTTP clients: [name, pattern]; the version is what follows "name/".
const BOTS = [
  ["Googlebot", /Googlebot(?:-[A-Za-z]+)?\/([0-9.]+)/],
  ["Googlebot", /Googlebot/],
  ["Bingbot", /bingbot\/([0-9.]+)/i],
  ["DuckDuckBot", /DuckDuckBot(?:-Https)?\/([0-9.]+)/],
  ["YandexBot", /YandexBot\/([0-9.]+)/],
  ["Baiduspider", /Baiduspider(?:-render)?\/([0-9.]+)/],
  ["Applebot", /Applebot\/([0-9.]+)/],
  ["GPTBot", /GPTBot\/([0-9.]+)/],
  ["AhrefsBot", /AhrefsBot\/([0-9.]+)/],
  ["SemrushBot", /SemrushBot\/([0-9.~a-z]+)/],
  ["facebookexternalhit", /facebookexternalhit\/([0-9.]+)/],
  ["Twitterbot", /Twitterbot\/([0-9.]+)/],
  ["LinkedInBot", /LinkedInBot\/([0-9.]+)/],
  ["Slackbot", /Slackbot(?:-LinkExpanding)? ([0-9.]+)/],
  ["HeadlessChrome", /HeadlessChrome\/([0-9.]+)/],
  ["Lighthouse", /Chrome-Lighthouse/],
  ["curl", /^curl\/([0-9.]+)/],
  ["Wget", /^Wget\/([0-9.]+)/],
  ["python-requests", /^python-requests\/([0-9.]+)/],
  ["Go-http-client", /^Go-http-client\/([0-9.]+)/],
];
// Anything else that calls itself a bot, crawler or spider.
const GENERIC_BOT = /bot(?![A-Za-z0-9_])|crawler|spider|crawling|slurp/i;
const NOT_A_BOT = /cubot/i; // a phone brand, not a crawler

// Browsers, most specific first (Edge and Opera also say "Chrome", Chrome also says "Safari").
const BROWSERS = [
  ["Edge", /Edg(?:e|A|iOS)?\/([0-9.]+)/],
  ["Opera", /(?:OPR|OPiOS)\/([0-9.]+)/],
  ["Samsung Internet", /SamsungBrowser\/([0-9.]+)/],
  ["Firefox", /(?:Firefox|FxiOS)\/([0-9.]+)/],
  ["Chrome", /(?:Chrome|CriOS)\/([0-9.]+)/],
  ["Safari", /Version\/([0-9.]+)(?: Mobile\/[0-9A-Za-z]+)? Safari\//],
  ["Internet Explorer", /MSIE ([0-9.]+)/],
  ["Internet Explorer", /Trident\/[0-9.]+;.* rv:([0-9.]+)/],
];

const WINDOWS_VERSIONS = { "10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.1": "XP" };

function firstMatch(table, ua) {
  for (const [name, pattern] of table) {
    const match = pattern.exec(ua);
    if (match) return { name, version: match[1] === undefined ? UNKNOWN : match[1] };
  }
  return null;
}

function isGenericBot(ua) {
  return GENERIC_BOT.test(ua) && !NOT_A_BOT.test(ua);
}

// Only spaces, tabs and line breaks are trimmed (String.prototype.trim and str.strip disagree on others).
function trim(text) {
  return text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, "");
}

function parseOs(ua) {
  let match = /\((?:iPhone|iPad|iPod)(?:;| ).*? OS ([0-9]+(?:_[0-9]+)*) like Mac OS X/.exec(ua);
  if (match) return { os: "iOS", osVersion: match[1].split("_").join(".") };
  if (/\((?:iPhone|iPad|iPod)[;)]/.test(ua)) return { os: "iOS", osVersion: UNKNOWN };
  match = /Android(?: ([0-9]+(?:\.[0-9]+)*))?/.exec(ua);
  if (match) return { os: "Android", osVersion: match[1] === undefined ? UNKNOWN : match[1] };
  match = /Windows NT ([0-9]+\.[0-9]+)/.exec(ua);
  if (match) return { os: "Windows", osVersion: WINDOWS_VERSIONS[match[1]] || match[1] };
  if (/Windows/.test(ua)) return { os: "Windows", osVersion: UNKNOWN };
  match = /Mac OS X ([0-9]+(?:[_.][0-9]+)*)/.exec(ua);
  if (match) return { os: "macOS", osVersion: match[1].split("_").join(".") };
  if (/Macintosh/.test(ua)) return { os: "macOS", osVersion: UNKNOWN };
  match = /CrOS [A-Za-z0-9_]+ ([0-9.]+)/.exec(ua);
  if (match) return { os: "Chrome OS", osVersion: match[1] };
  if (/Linux|X11/.test(ua)) return { os: "Linux", osVersion: UNKNOWN };
  return { os: UNKNOWN, osVersion: UNKNOWN };
}

function deviceTypeOf(ua, os, browser) {
  if (/iPad|Tablet|PlayBook|Silk\//.test(ua)) return "tablet";
  if (/Mobi|iPhone|iPod|Windows Phone/.test(ua)) return "mobile";
  // A browser on Android without "Mobile" is a tablet by Google's convention; an app's agent
  // (Dalvik/2.1.0 (Linux; U; Android 13; …)) does not say which it is.
  if (os === "Android") return browser === UNKNOWN ? UNKNOWN : "tablet";
  if (os === "Windows" || os === "macOS" || os === "Linux" || os === "Chrome OS") return "desktop";
  return UNKNOWN;
}

/** The bot's name if the agent is a known bot, crawler or HTTP client, "bot" for a generic one, else null. */
export function botName(ua) {
  if (typeof ua !== "string") return null;
  ua = trim(ua);
  const bot = firstMatch(BOTS, ua);
  if (bot) return bot.name;
  return isGenericBot(ua) ? "bot" : null;
}

/** Whether the agent is a bot, crawler or non-browser HTTP client. */
export function isBot(ua) {
  return botName(ua) !== null;
}

/**
 * Parses a User-Agent string into {browser, browserVersion, os, osVersion, deviceType, isBot}.
 * Every field not recognised is "unknown"; a value that is not a string gives an all-"unknown" result.
 * For a bot, browser is the bot's name and deviceType is "bot".
 */
export function parseUserAgent(ua) {
  const result = {
    browser: UNKNOWN, browserVersion: UNKNOWN, os: UNKNOWN, osVersion: UNKNOWN, deviceType: UNKNOWN, isBot: false,
  };
  if (typeof ua !== "string") return result;
  ua = trim(ua);
  if (ua === "") return result;
  const { os, osVersion } = parseOs(ua);
  result.os = os;
  result.osVersion = osVersion;
  const bot = firstMatch(BOTS, ua) || (isGenericBot(ua) ? { name: "bot", version: UNKNOWN } : null);
  if (bot) {
    result.browser = bot.name;
    result.browserVersion = bot.version;
    result.deviceType = "bot";
    result.isBot = true;
    return result;
  }
  const browser = firstMatch(BROWSERS, ua);
  if (browser) {
    result.browser = browser.name;
    result.browserVersion = browser.version;
  }
  result.deviceType = deviceTypeOf(ua, os, result.browser);
  return result;
}

export default { parseUserAgent, isBot, botName, UNKNOWN };
