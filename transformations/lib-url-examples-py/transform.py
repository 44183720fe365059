# lib-url-examples-py: runs the functions of libraries/url.py on example arguments, so the
# library's behaviour is pinned by snapshot cases; the inputs and expected output are those of
# lib-url-examples (the JavaScript library), so both libraries are held to the same results.
#
# Each input event is {"messageId", "fn", "args"}: fn is the JavaScript name of a library
# function (mapped below to its Python name), args the list of its arguments. The output is
# {"messageId", "fn", "args", "result"}, or {..., "error": "<ErrorName>: <message>"} when the
# function raises.
from url import decode_component, query_string, parse_query, utm_fields

FUNCTIONS = {
    "decodeComponent": decode_component,
    "queryString": query_string,
    "parseQuery": parse_query,
    "utmFields": utm_fields,
}


def transformEvent(event, metadata):
    args = event.get("args")
    if not isinstance(args, list):
        args = []
    base = {"messageId": event.get("messageId"), "fn": event.get("fn"), "args": args}
    fn = FUNCTIONS.get(event.get("fn")) if isinstance(event.get("fn"), str) else None
    if fn is None:
        return {**base, "error": f"unknown function {event.get('fn')}"}
    try:
        return {**base, "result": fn(*args)}
    except Exception as error:  # noqa: BLE001 - reported as data, like the JavaScript twin
        return {**base, "error": f"{type(error).__name__}: {error}"}
