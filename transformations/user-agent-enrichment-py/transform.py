# user-agent-enrichment-py: parses context.userAgent with the useragent library into context.device
# {browser, browserVersion, os, osVersion, deviceType} (deviceType: desktop, mobile, tablet or bot;
# anything not recognised is "unknown"). The Python twin of user-agent-enrichment.
# - An existing context.device object keeps its other keys (the mobile SDKs' id, manufacturer,
#   model ...); a context.device that is not an object is replaced (and logged).
# - Bots are flagged with context.device.isBot = True and a log line (BOT_ACTION = "drop" drops
#   them instead); an isBot already on a non-bot's device is removed.
# - Events without a userAgent string (missing, null, not a string, blank) pass unchanged.
from useragent import parse_user_agent

BOT_ACTION = "flag"  # "flag" or "drop"


def transformEvent(event, metadata):
    context = event.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("userAgent"), str):
        return event
    if context["userAgent"].strip(" \t\r\n") == "":
        return event
    parsed = parse_user_agent(context["userAgent"])
    message_id = event.get("messageId") if isinstance(event.get("messageId"), str) else "(no messageId)"
    if parsed["isBot"] and BOT_ACTION == "drop":
        log(f"dropped {message_id}: bot {parsed['browser']}")
        return None
    if not isinstance(context.get("device"), dict):
        if context.get("device") is not None:
            log(f"replaced context.device of {message_id}: not an object")
        context["device"] = {}
    device = context["device"]
    for key in ("browser", "browserVersion", "os", "osVersion", "deviceType"):
        device[key] = parsed[key]
    if parsed["isBot"]:
        device["isBot"] = True
        log(f"flagged {message_id}: bot {parsed['browser']}")
    else:
        device.pop("isBot", None)  # a stale flag from upstream
    return event
