"""currency: a fixed table of USD exchange rates and conversion to USD, rounded to cents.

The Python twin of currency.js; both give the same numbers for the same input.

    from currency import to_usd, usd_rate, parse_amount
    to_usd(100, "EUR")     # 108.5
    to_usd("1999", "JPY")  # 13.39
    to_usd(5, "XYZ")       # raises UnknownCurrencyError: unknown currency "XYZ"

The rates are reference rates (US dollars per one unit of the currency) frozen in this file so
that a transformation gives the same output on every run; there is no network access, so they are
not live. Update the table (and the snapshot cases) when they drift too far.

Matching JavaScript exactly:
- round_cents reproduces `Math.round(x * 100) / 100` (ties towards +infinity) instead of Python's
  round(), which rounds ties to even (round(0.125, 2) == 0.12, Math.round gives 0.13);
- results that are whole numbers are returned as int, because json.dumps writes 108.0 as "108.0"
  where JSON.stringify writes "108"; -0.0 becomes 0 for the same reason;
- booleans are not amounts (in Python True is an int).
"""
import json
import math
import re

__all__ = ["RATES_TO_USD", "UnknownCurrencyError", "InvalidAmountError", "describe", "normalise_code",
           "is_known_currency", "usd_rate", "parse_amount", "round_cents", "plain_number", "to_usd"]

# US dollars per one unit of each currency (ISO 4217 codes).
RATES_TO_USD = {
    "USD": 1,
    "EUR": 1.085,
    "GBP": 1.27,
    "CHF": 1.13,
    "JPY": 0.0067,
    "CNY": 0.138,
    "INR": 0.012,
    "KRW": 0.00075,
    "CAD": 0.735,
    "AUD": 0.66,
    "NZD": 0.61,
    "SEK": 0.096,
    "NOK": 0.094,
    "DKK": 0.1455,
    "PLN": 0.25,
    "BRL": 0.18,
    "MXN": 0.058,
}


class UnknownCurrencyError(ValueError):
    """Raised for a currency that is not a three-letter code in RATES_TO_USD."""


class InvalidAmountError(ValueError):
    """Raised by to_usd for an amount that parse_amount does not accept."""


_AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CODE_TEXT = re.compile(r"[ \t]*([A-Za-z]{3})[ \t]*")


def describe(value):
    """How a bad value is named in error messages (the same text in currency.js)."""
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a value of type boolean"
    if isinstance(value, (int, float)):
        return "a value of type number"
    if isinstance(value, list):
        return "a value of type array"
    return "a value of type object"


def normalise_code(currency):
    """The upper-case ISO code of a currency ("eur", " EUR " -> "EUR"), or None when it is not three letters."""
    if not isinstance(currency, str):
        return None
    match = _CODE_TEXT.fullmatch(currency)
    return match.group(1).upper() if match else None


def is_known_currency(currency):
    """True when the currency is in the rate table (case and surrounding blanks ignored)."""
    return normalise_code(currency) in RATES_TO_USD


def usd_rate(currency):
    """US dollars per one unit of `currency`; raises UnknownCurrencyError for anything not in the table."""
    if not is_known_currency(currency):
        raise UnknownCurrencyError(f"unknown currency {describe(currency)}")
    return RATES_TO_USD[normalise_code(currency)]


def parse_amount(value):
    """An amount as a number: a finite int/float, or a plain decimal string ("12", "-3.50"); else None.

    The string rule is deliberately narrow so that float() cannot accept what JavaScript's
    Number() refuses or the reverse ("1_000", " 12", "inf", "0x10", "").
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return plain_number(value) if math.isfinite(value) else None
    if isinstance(value, str) and _AMOUNT_TEXT.fullmatch(value):
        return plain_number(float(value))
    return None


def plain_number(value):
    """A float that is a whole number as an int (so it serialises as JavaScript would), else the value."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return int(value)
    return value


def round_cents(amount):
    """Rounds to cents exactly as JavaScript's Math.round(amount * 100) / 100 does."""
    scaled = float(amount) * 100
    whole = math.floor(scaled)
    if scaled - whole >= 0.5:  # exact: a double minus its floor is representable
        whole += 1
    return plain_number(whole / 100)


def to_usd(amount, currency):
    """`amount` (a number or decimal string) in `currency`, converted to US dollars and rounded to cents."""
    rate = usd_rate(currency)
    value = parse_amount(amount)
    if value is None:
        raise InvalidAmountError(f"invalid amount {describe(amount)}")
    return round_cents(value * rate)
