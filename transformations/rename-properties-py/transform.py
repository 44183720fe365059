# rename-properties-py: tidy `properties` for warehouse destinations, and fix legacy event names
# (the Python twin of rename-properties; same output for the same input).
#
# - Keys become snake_case: camelCase and PascalCase split at case changes ("orderID" ->
#   "order_id", "HTTPStatus" -> "http_status"), runs of blanks and dashes become "_", blanks and
#   dashes at either end are removed. A key that would become empty is kept as it was. Nested
#   objects (and objects inside lists) are renamed the same way, down to MAX_DEPTH levels.
# - When two keys map to the same snake_case key ("orderId" and "order_id"), the first one in the
#   event wins and the other is dropped (and logged).
# - None values and strings that are empty after trimming are dropped (inside lists they are
#   kept, positions matter there). Strings are trimmed and cut to MAX_LENGTH characters, counted
#   in Unicode code points (Python's len(); the JavaScript twin counts code points explicitly);
#   cuts are logged.
# - Trimming uses JavaScript's whitespace set (that of String.prototype.trim), not str.strip():
#   strip() also removes U+001C-U+001F and U+0085 and keeps U+FEFF, which trim() does the other
#   way round.
# - Track events whose name is in LEGACY_EVENT_NAMES (compared trimmed and case-insensitively) are
#   renamed to the current spec name.
# - Only `properties` is touched; traits, context and the rest pass through.
import re

MAX_LENGTH = 256
MAX_DEPTH = 8

LEGACY_EVENT_NAMES = {
    "order complete": "Order Completed",
    "order completed successfully": "Order Completed",
    "completed order": "Order Completed",
    "product add": "Product Added",
    "add to cart": "Product Added",
    "product view": "Product Viewed",
    "checkout start": "Checkout Started",
    "sign up": "Signed Up",
    "signup": "Signed Up",
    "search": "Products Searched",
}

BLANKS = ("\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
          "\u2028\u2029\u202f\u205f\u3000\ufeff")

_EDGE_SEPARATORS = re.compile(r"^[ \t\n\r\f\v-]+|[ \t\n\r\f\v-]+$")
_SEPARATORS = re.compile(r"[ \t\n\r\f\v-]+")
_LOWER_UPPER = re.compile(r"([a-z0-9])([A-Z])")
_ACRONYM_WORD = re.compile(r"([A-Z]+)([A-Z][a-z])")


def _message_id(event):
    message_id = event.get("messageId")
    return message_id if isinstance(message_id, str) else "(no messageId)"


def snake_case(key):
    snake = _EDGE_SEPARATORS.sub("", key)
    snake = _SEPARATORS.sub("_", snake)
    snake = _LOWER_UPPER.sub(r"\1_\2", snake)
    snake = _ACRONYM_WORD.sub(r"\1_\2", snake)
    snake = snake.lower()
    return key if snake == "" else snake


def _tidy_string(text, path, notes):
    trimmed = text.strip(BLANKS)
    if len(trimmed) <= MAX_LENGTH:
        return trimmed
    notes.append(f"cut {path} from {len(trimmed)} to {MAX_LENGTH} characters")
    return trimmed[:MAX_LENGTH]


def _tidy_value(value, path, depth, notes):
    if isinstance(value, str):
        return _tidy_string(value, path, notes)
    if depth >= MAX_DEPTH:
        return value
    if isinstance(value, list):
        return [_tidy_value(item, f"{path}[{index}]", depth + 1, notes) for index, item in enumerate(value)]
    if isinstance(value, dict):
        return _tidy_object(value, path, depth + 1, notes)
    return value


def _tidy_object(obj, path, depth, notes):
    result = {}
    source = {}  # snake_case key -> the key it came from
    for key, value in obj.items():
        name = snake_case(key)
        if name in source:
            notes.append(f"dropped {path}.{key}: {path}.{source[name]} is also {name}")
            continue
        source[name] = key
        if value is None:
            continue
        tidy = _tidy_value(value, f"{path}.{name}", depth, notes)
        if tidy == "":
            continue
        result[name] = tidy
    return result


def transformEvent(event, metadata):
    notes = []
    name = event.get("event")
    if event.get("type") == "track" and isinstance(name, str):
        current = LEGACY_EVENT_NAMES.get(name.strip(BLANKS).lower())
        if current is not None and current != name:
            notes.append(f'renamed event "{name}" to "{current}"')
            event["event"] = current
    if isinstance(event.get("properties"), dict):
        event["properties"] = _tidy_object(event["properties"], "properties", 0, notes)
    for note in notes:
        log(f"rename-properties: {_message_id(event)}: {note}")
    return event
