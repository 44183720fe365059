"""useragent: a small, dependency-free User-Agent parser (the Python twin of useragent.js; both give
the same result for the same string).

    from useragent import parse_user_agent, is_bot
    parse_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) ... Version/17.4 Mobile/15E148 Safari/604.1")
    # {"browser": "Safari", "browserVersion": "17.4", "os": "iOS", "osVersion": "17.4",
    #  "deviceType": "mobile", "isBot": False}

Browsers: Edge, Opera, Samsung Internet, Firefox, Chrome, Safari, Internet Explorer.
Systems: iOS, Android, Windows, macOS, Chrome OS, Linux.
Device types: desktop, mobile, tablet, bot; anything not recognised is "unknown".
Every pattern is compiled with re.ASCII so that [0-9], \\b and IGNORECASE mean what they mean in
JavaScript (Python's defaults are Unicode-aware).
"""
import re

__all__ = ["UNKNOWN", "parse_user_agent", "is_bot", "bot_name"]

UNKNOWN = "unknown"


def _re(pattern, flags=0):
    return re.compile(pattern, flags | re.ASCII)


# Bots and non-browser HTTP clients: (name, pattern); the version is what follows "name/".
_BOTS = [
    ("Googlebot", _re(r"Googlebot(?:-[A-Za-z]+)?/([0-9.]+)")),
    ("Googlebot", _re(r"Googlebot")),
    ("Bingbot", _re(r"bingbot/([0-9.]+)", re.IGNORECASE)),
    ("DuckDuckBot", _re(r"DuckDuckBot(?:-Https)?/([0-9.]+)")),
    ("YandexBot", _re(r"YandexBot/([0-9.]+)")),
    ("Baiduspider", _re(r"Baiduspider(?:-render)?/([0-9.]+)")),
    ("Applebot", _re(r"Applebot/([0-9.]+)")),
    ("GPTBot", _re(r"GPTBot/([0-9.]+)")),
    ("AhrefsBot", _re(r"AhrefsBot/([0-9.]+)")),
    ("SemrushBot", _re(r"SemrushBot/([0-9.~a-z]+)")),
    ("facebookexternalhit", _re(r"facebookexternalhit/([0-9.]+)")),
    ("Twitterbot", _re(r"Twitterbot/([0-9.]+)")),
    ("LinkedInBot", _re(r"LinkedInBot/([0-9.]+)")),
    ("Slackbot", _re(r"Slackbot(?:-LinkExpanding)? ([0-9.]+)")),
    ("HeadlessChrome", _re(r"HeadlessChrome/([0-9.]+)")),
    ("Lighthouse", _re(r"Chrome-Lighthouse")),
    ("curl", _re(r"^curl/([0-9.]+)")),
    ("Wget", _re(r"^Wget/([0-9.]+)")),
    ("python-requests", _re(r"^python-requests/([0-9.]+)")),
    ("Go-http-client", _re(r"^Go-http-client/([0-9.]+)")),
]
# Anything else that calls itself a bot, crawler or spider.
_GENERIC_BOT = _re(r"bot(?![A-Za-z0-9_])|crawler|spider|crawling|slurp", re.IGNORECASE)
_NOT_A_BOT = _re(r"cubot", re.IGNORECASE)  # a phone brand, not a crawler

# Browsers, most specific first (Edge and Opera also say "Chrome", Chrome also says "Safari").
_BROWSERS = [
    ("Edge", _re(r"Edg(?:e|A|iOS)?/([0-9.]+)")),
    ("Opera", _re(r"(?:OPR|OPiOS)/([0-9.]+)")),
    ("Samsung Internet", _re(r"SamsungBrowser/([0-9.]+)")),
    ("Firefox", _re(r"(?:Firefox|FxiOS)/([0-9.]+)")),
    ("Chrome", _re(r"(?:Chrome|CriOS)/([0-9.]+)")),
    ("Safari", _re(r"Version/([0-9.]+)(?: Mobile/[0-9A-Za-z]+)? Safari/")),
    ("Internet Explorer", _re(r"MSIE ([0-9.]+)")),
    ("Internet Explorer", _re(r"Trident/[0-9.]+;.* rv:([0-9.]+)")),
]

_WINDOWS_VERSIONS = {"10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.1": "XP"}

_IOS = _re(r"\((?:iPhone|iPad|iPod)(?:;| ).*? OS ([0-9]+(?:_[0-9]+)*) like Mac OS X")
_IOS_BARE = _re(r"\((?:iPhone|iPad|iPod)[;)]")
_ANDROID = _re(r"Android(?: ([0-9]+(?:\.[0-9]+)*))?")
_WINDOWS_NT = _re(r"Windows NT ([0-9]+\.[0-9]+)")
_WINDOWS = _re(r"Windows")
_MACOS = _re(r"Mac OS X ([0-9]+(?:[_.][0-9]+)*)")
_MACINTOSH = _re(r"Macintosh")
_CROS = _re(r"CrOS [A-Za-z0-9_]+ ([0-9.]+)")
_LINUX = _re(r"Linux|X11")
_TABLET = _re(r"iPad|Tablet|PlayBook|Silk/")
_MOBILE = _re(r"Mobi|iPhone|iPod|Windows Phone")


def _first_match(table, ua):
    for name, pattern in table:
        match = pattern.search(ua)
        if match:
            version = match.group(1) if pattern.groups >= 1 else None
            return name, UNKNOWN if version is None else version
    return None


def _trim(text):
    # Only spaces, tabs and line breaks (str.strip and String.prototype.trim disagree on others).
    return text.strip(" \t\r\n")


def _is_generic_bot(ua):
    return bool(_GENERIC_BOT.search(ua)) and not _NOT_A_BOT.search(ua)


def _parse_os(ua):
    match = _IOS.search(ua)
    if match:
        return "iOS", match.group(1).replace("_", ".")
    if _IOS_BARE.search(ua):
        return "iOS", UNKNOWN
    match = _ANDROID.search(ua)
    if match:
        return "Android", UNKNOWN if match.group(1) is None else match.group(1)
    match = _WINDOWS_NT.search(ua)
    if match:
        return "Windows", _WINDOWS_VERSIONS.get(match.group(1), match.group(1))
    if _WINDOWS.search(ua):
        return "Windows", UNKNOWN
    match = _MACOS.search(ua)
    if match:
        return "macOS", match.group(1).replace("_", ".")
    if _MACINTOSH.search(ua):
        return "macOS", UNKNOWN
    match = _CROS.search(ua)
    if match:
        return "Chrome OS", match.group(1)
    if _LINUX.search(ua):
        return "Linux", UNKNOWN
    return UNKNOWN, UNKNOWN


def _device_type(ua, os_name, browser):
    if _TABLET.search(ua):
        return "tablet"
    if _MOBILE.search(ua):
        return "mobile"
    if os_name == "Android":
        # A browser on Android without "Mobile" is a tablet by Google's convention; an app's agent
        # (Dalvik/2.1.0 (Linux; U; Android 13; ...)) does not say which it is.
        return UNKNOWN if browser == UNKNOWN else "tablet"
    if os_name in ("Windows", "macOS", "Linux", "Chrome OS"):
        return "desktop"
    return UNKNOWN


def bot_name(ua=None):
    """The bot's name if the agent is a known bot, crawler or HTTP client, "bot" for a generic one, else None."""
    if not isinstance(ua, str):
        return None
    ua = _trim(ua)
    bot = _first_match(_BOTS, ua)
    if bot:
        return bot[0]
    return "bot" if _is_generic_bot(ua) else None


def is_bot(ua=None):
    """Whether the agent is a bot, crawler or non-browser HTTP client."""
    return bot_name(ua) is not None


def parse_user_agent(ua=None):
    """Parses a User-Agent string into {browser, browserVersion, os, osVersion, deviceType, isBot}.

    Every field not recognised is "unknown"; a value that is not a string gives an all-"unknown"
    result. For a bot, browser is the bot's name and deviceType is "bot".
    """
    result = {"browser": UNKNOWN, "browserVersion": UNKNOWN, "os": UNKNOWN, "osVersion": UNKNOWN,
              "deviceType": UNKNOWN, "isBot": False}
    if not isinstance(ua, str):
        return result
    ua = _trim(ua)
    if ua == "":
        return result
    result["os"], result["osVersion"] = _parse_os(ua)
    bot = _first_match(_BOTS, ua)
    if bot is None and _is_generic_bot(ua):
        bot = ("bot", UNKNOWN)
    if bot:
        result["browser"], result["browserVersion"] = bot
        result["deviceType"] = "bot"
        result["isBot"] = True
        return result
    browser = _first_match(_BROWSERS, ua)
    if browser:
        result["browser"], result["browserVersion"] = browser
    result["deviceType"] = _device_type(ua, result["os"], result["browser"])
    return result
