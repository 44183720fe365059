# lib-currency-examples-py: runs the functions of libraries/currency.py on example arguments, so the
# library's behaviour is pinned by snapshot cases; the inputs and expected output are those of
# lib-currency-examples (the JavaScript library), so both libraries are held to the same results.
#
# Each input event is {"messageId", "fn", "args"}: fn is the JavaScript name of a library
# function (mapped below to its Python name), args the list of its arguments. The output is
# {"messageId", "fn", "args", "result"}, or {..., "error": "<ErrorName>: <message>"} when the
# function raises.
from currency import describe, normalise_code, is_known_currency, usd_rate, parse_amount, round_cents, to_usd

FUNCTIONS = {
    "describe": describe,
    "normaliseCode": normalise_code,
    "isKnownCurrency": is_known_currency,
    "usdRate": usd_rate,
    "parseAmount": parse_amount,
    "roundCents": round_cents,
    "toUSD": to_usd,
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
