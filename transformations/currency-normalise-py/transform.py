# currency-normalise-py: report every amount in US dollars
# (the Python twin of currency-normalise; same output for the same input).
#
# - `properties.revenue`, `properties.value`, `properties.price` and each
#   `properties.products[*].price` are converted from `properties.currency` to USD with the fixed
#   rate table of the `currency` library and rounded to cents (JavaScript's rounding, and whole
#   numbers as ints, so the output is byte-for-byte that of the JavaScript twin).
# - The original of each converted field is kept next to it as `original_<field>` (for example
#   `original_value`, `original_revenue`, and `original_price` inside each product), the original
#   code (upper-cased: " eur " gives "EUR") as `properties.original_currency`, and `properties.currency` becomes "USD".
# - No currency (missing, None or "") means USD, as in the RudderStack e-commerce spec: nothing
#   changes. A USD event is not touched either.
# - An unknown currency (not a three-letter code of the table, or not a string) raises
#   UnknownCurrencyError, so that event fails alone and the rest of the batch goes through.
# - An amount that is neither a number nor a plain decimal string ("12.50") is left as it is and
#   logged; None amounts are ignored.
from currency import usd_rate, normalise_code, parse_amount, to_usd

AMOUNT_FIELDS = ("revenue", "value", "price")


def _message_id(event):
    message_id = event.get("messageId")
    return message_id if isinstance(message_id, str) else "(no messageId)"


def _convert_field(obj, field, currency, path, notes):
    """Converts obj[field] in place; returns True when it did."""
    if obj.get(field) is None:
        return False
    original = obj[field]
    if parse_amount(original) is None:
        notes.append(f"{path}.{field} is not an amount, left as is")
        return False
    obj[field] = to_usd(original, currency)
    obj[f"original_{field}"] = original
    return True


def transformEvent(event, metadata):
    properties = event.get("properties")
    if not isinstance(properties, dict):
        return event
    currency = properties.get("currency")
    if currency is None or currency == "":
        return event
    usd_rate(currency)  # raises UnknownCurrencyError before anything is changed
    code = normalise_code(currency)
    if code == "USD":
        return event

    notes = []
    converted = 0
    for field in AMOUNT_FIELDS:
        if _convert_field(properties, field, code, "properties", notes):
            converted += 1
    products = properties.get("products")
    if isinstance(products, list):
        for index, product in enumerate(products):
            if isinstance(product, dict) and _convert_field(product, "price", code, f"properties.products[{index}]", notes):
                converted += 1
    if converted > 0:
        properties["original_currency"] = code
        properties["currency"] = "USD"
        notes.append(f"converted {converted} amount{'' if converted == 1 else 's'} from {code} to USD")
    for note in notes:
        log(f"currency-normalise: {_message_id(event)}: {note}")
    return event
