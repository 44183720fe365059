# lib-useragent-examples-py: runs the useragent library on example calls, so that its behaviour is
# pinned by snapshot cases (the Python twin of lib-useragent-examples, with the same cases). Each
# input is {"messageId", "call", "args": [...]}, "call" naming the JavaScript function; the output
# is the input with "result" set to what the library function returned.
from useragent import parse_user_agent, is_bot, bot_name

FUNCTIONS = {"parseUserAgent": parse_user_agent, "isBot": is_bot, "botName": bot_name}


def transformEvent(event, metadata):
    call = event.get("call")
    fn = FUNCTIONS.get(call) if isinstance(call, str) else None
    if fn is None:
        event["error"] = "unknown function"
        return event
    args = event.get("args")
    event["result"] = fn(*(args if isinstance(args, list) else []))
    return event
