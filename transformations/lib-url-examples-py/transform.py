# lib-url-examples-py: runs the functions of libraries/url.py on example arguments, so the
# library's behaviour is pinned by snapshot cases; the inputs and expected output are those of
# lib-url-examples (the JavaScript library), so both libraries are held to the same results.
#
# Each input event is {"messageId", "fn", "args"} with fn the JavaScript name of a library
# function (mapped below to its Python name); see libraries/examples.py for the output.
from url import decode_component, query_string, parse_query, utm_fields
from examples import run_example

FUNCTIONS = {
    "decodeComponent": decode_component,
    "queryString": query_string,
    "parseQuery": parse_query,
    "utmFields": utm_fields,
}


def transformEvent(event, metadata):
    return run_example(FUNCTIONS, event)
