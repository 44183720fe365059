"""examples: runs a library function named by an example event (the Python twin of examples.js).

    from examples import run_example
    def transformEvent(event, metadata):
        return run_example({"parseQuery": parse_query}, event)

Functions are keyed by their JavaScript names, so both twins read the same inputs.
"""

__all__ = ["run_example"]


def run_example(functions, event):
    args = event.get("args")
    if not isinstance(args, list):
        args = []
    base = {"messageId": event.get("messageId"), "fn": event.get("fn"), "args": args}
    name = event.get("fn")
    fn = functions.get(name) if isinstance(name, str) else None
    if fn is None:
        return {**base, "error": f"unknown function {name}"}
    try:
        return {**base, "result": fn(*args)}
    except Exception as error:  # reported as data, like the JavaScript twin
        return {**base, "error": f"{type(error).__name__}: {error}"}
