# lib-currency-examples-py: runs the functions of libraries/currency.py on example arguments, so the
# library's behaviour is pinned by snapshot cases; the inputs and expected output are those of
# lib-currency-examples (the JavaScript library), so both libraries are held to the same results.
#
# Each input event is {"messageId", "fn", "args"} with fn the JavaScript name of a library
# function (mapped below to its Python name); see libraries/examples.py for the output.
from currency import describe, normalise_code, is_known_currency, usd_rate, parse_amount, round_cents, to_usd
from examples import run_example

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
    return run_example(FUNCTIONS, event)
