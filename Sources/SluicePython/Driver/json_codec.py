# ---- JSON ---------------------------------------------------------------------------------
# The driver's own JSON goes through the C encoder and scanner, captured now: user code shares
# the standard library's modules with every other transformation in the process, and patching
# json.JSONEncoder or json.loads must not change what the driver reads and writes.
import _json
import re as _re
from json.decoder import JSONDecodeError as _JSONDecodeError

_c_make_encoder = _json.make_encoder
_c_encode_string = _json.encode_basestring
_c_scan = _json.make_scanner(json.JSONDecoder())
_whitespace_end = _re.compile(r"[ \t\n\r]*").match


def _unserialisable(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# Largest JSON text of one returned event (32 MiB): larger ones fail that event, so one
# runaway output cannot swamp the response or the worker channel.
MAXIMUM_OUTPUT = 32 << 20


def _output(value):
    """The JSON text of a returned event; ValueError past MAXIMUM_OUTPUT."""
    text = _encode_any(value)
    if len(text) > MAXIMUM_OUTPUT:
        raise ValueError(f"returned event is {len(text) >> 20} MB of JSON, past the limit of {MAXIMUM_OUTPUT >> 20} MB for one output")
    return text


def _encode(value):
    """json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)."""
    if isinstance(value, str):
        return _c_encode_string(value)
    return "".join(_c_make_encoder({}, _unserialisable, _c_encode_string, None, ":", ",", False, False, False)(value, 0))


def _loads(text, scan=_c_scan):
    """json.loads(text) for str input."""
    start = _whitespace_end(text, 0).end()
    try:
        value, end = scan(text, start)
    except StopIteration as stop:
        raise _JSONDecodeError("Expecting value", text, stop.value) from None
    end = _whitespace_end(text, end).end()
    if end != len(text):
        raise _JSONDecodeError("Extra data", text, end)
    return value


# -- at the edges: what the fast path refuses (large integers, deep nesting) ----------------

# Deepest nesting of a JSON value in or out (Go's encoding/json, which rudder-server uses, stops
# at 10,000 too). The C scanner and encoder use ~200 bytes of the interpreter thread's 16 MB
# stack per level: the limit leaves most of it.
MAXIMUM_DEPTH = 10_000
_DIGIT_LIMIT = sys.get_int_max_str_digits()
_DEPTH_ERROR = f"nesting deeper than {MAXIMUM_DEPTH} levels"


def _is_digit_limit(error):
    return isinstance(error, ValueError) and "integer string conversion" in str(error)


class _RecursionLimit:
    """Raises the interpreter's recursion limit by `levels` above the current depth, for C code
    that recurses once per level of a value it is known to handle alone (no user code runs)."""

    def __init__(self, levels):
        self.levels = levels

    def __enter__(self):
        self.saved = sys.getrecursionlimit()
        depth = 0
        frame = sys._getframe()
        while frame is not None:
            depth += 1
            frame = frame.f_back
        sys.setrecursionlimit(max(self.saved, depth + self.levels + 50))

    def __exit__(self, *error):
        sys.setrecursionlimit(self.saved)


# -- integers of any size -----------------------------------------------------------------------

def _int_from_digits(text):
    """int(text) for any number of digits, in O(n^1.6): halves of the digit string are
    converted alone and combined with one multiplication (CPython's int() is quadratic past the
    limit, ~13 s for a million digits, and it is one C call no time limit can stop)."""
    powers = {}

    def power(count):
        value = powers.get(count)
        if value is None:
            value = powers[count] = 10 ** count if count <= _DIGIT_LIMIT else power(count >> 1) * power(count - (count >> 1))
        return value

    def convert(start, end):
        if end - start <= _DIGIT_LIMIT:
            return int(text[start:end])
        half = (end - start) >> 1
        return convert(start, end - half) * power(half) + convert(end - half, end)

    negative = text.startswith("-")
    value = convert(1 if negative else 0, len(text))
    return -value if negative else value


def _int_to_digits(value):
    """str(value) for any size, subquadratic: split by powers of two (shifts), combined in
    decimal arithmetic (libmpdec multiplies large numbers in O(n log n))."""
    decimal = sys.modules["decimal"]
    two = decimal.Decimal(2)
    powers = {}

    def power(bits):
        result = powers.get(bits)
        if result is None:
            result = powers[bits] = two ** bits if bits <= 128 else power(bits >> 1) * power(bits - (bits >> 1))
        return result

    def convert(number, bits):
        if bits <= 128:
            return decimal.Decimal(number)
        half = bits >> 1
        high = number >> half
        return convert(high, bits - half) * power(half) + convert(number - (high << half), half)

    context = decimal.Context(prec=decimal.MAX_PREC, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
    context.traps[decimal.Inexact] = True
    saved = decimal.getcontext()
    decimal.setcontext(context)
    try:
        magnitude = -value if value < 0 else value
        text = format(convert(magnitude, magnitude.bit_length()), "f")
    finally:
        decimal.setcontext(saved)
    return "-" + text if value < 0 else text


# -- reading -------------------------------------------------------------------------------------

def _loads_slowly(text, integers):
    """_loads for what the fast path refused. Integers past the digit limit are converted by
    _int_from_digits and their text kept in `integers` ({id: (value, text)}), so that an
    unchanged one is written back as it came."""

    def parse_int(digits):
        if len(digits) <= _DIGIT_LIMIT:
            return int(digits)
        value = _int_from_digits(digits)
        integers[id(value)] = (value, digits)
        return value

    scan = _json.make_scanner(json.JSONDecoder(parse_int=parse_int))
    # One level more for the envelope ({"message": event, "metadata": …}): the limit is the event's.
    with _RecursionLimit(MAXIMUM_DEPTH + 2):
        try:
            value = _loads(text, scan)
        except RecursionError:
            raise ValueError(_DEPTH_ERROR) from None
    event = value
    if type(value) is dict and type(value.get("message")) is dict and _ENVELOPE_KEYS.issuperset(value):
        event = value["message"]
    if _deeper_than(event, MAXIMUM_DEPTH):
        raise ValueError(_DEPTH_ERROR)
    return value


def _deeper_than(value, levels):
    """Whether a parsed JSON value nests more than `levels` containers."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if type(item) is dict or type(item) is list:
            if depth > levels:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if type(item) is dict else item))
    return False


# -- writing -------------------------------------------------------------------------------------

def _encode_slowly(value, integers):
    """_encode for what the fast path refused (deep nesting, integers past the digit limit):
    the value is copied to plain JSON types — what the C encoder would read, read the same way,
    user methods included — with large integers replaced by unique strings, encoded by the C
    encoder, and the strings replaced by the digits."""
    nonce = _urandom(12).hex()
    digits = []  # (placeholder, text)

    def large(number, is_key):
        entry = integers.get(id(number)) if integers is not None else None
        text = entry[1] if entry is not None and entry[0] is number else _int_to_digits(number)
        placeholder = f"\x00{nonce}:{len(digits)}\x00"
        digits.append((_c_encode_string(placeholder), f'"{text}"' if is_key else text))
        return placeholder

    def plain(item):
        """item as a plain JSON value, or _EMPTY for a container (or what the C encoder would
        hand to its default: an error)."""
        kind = type(item)
        if issubclass(kind, str):
            return str.__str__(item)
        if item is None or item is True or item is False:
            return item
        if issubclass(kind, int):
            number = int.__int__(item)
            return number if -_LARGEST_SHORT < number < _LARGEST_SHORT else large(number, False)
        if issubclass(kind, float):
            return float.__float__(item)
        return _EMPTY

    def plain_key(key):
        # The C encoder turns int, float, bool and None keys into text (and refuses others).
        if type(key) is not bool and issubclass(type(key), int):
            number = int.__int__(key)
            if not -_LARGEST_SHORT < number < _LARGEST_SHORT:
                return large(number, True)
        return key

    result = plain(value)
    if result is _EMPTY:
        root, pending = _copy_container(value)
        result = root
        path = {id(value)}
        stack = [(root, pending, value, 1)]
        while stack:
            container, items, source, depth = stack[-1]
            try:
                key, item = next(items)
            except StopIteration:
                stack.pop()
                path.discard(id(source))
                continue
            copied = plain(item)
            if copied is _EMPTY:
                if depth >= MAXIMUM_DEPTH or id(item) in path:
                    raise RecursionError("maximum recursion depth exceeded while encoding a JSON object")
                copied, inner = _copy_container(item)
                path.add(id(item))
                stack.append((copied, inner, item, depth + 1))
            if type(container) is dict:
                container[plain_key(key)] = copied
            else:
                container.append(copied)
    with _RecursionLimit(MAXIMUM_DEPTH + 1):
        text = _encode(result)
    for placeholder, replacement in digits:
        text = text.replace(placeholder, replacement, 1)
    return text


_LARGEST_SHORT = 10 ** (_DIGIT_LIMIT - 1)


def _copy_container(item):
    """An empty plain container for `item` and an iterator of what the C encoder would read of
    it: a dict subclass's items() (its own method: the C encoder calls it), a list's or
    tuple's items as stored (not its __iter__)."""
    kind = type(item)
    if issubclass(kind, list) or issubclass(kind, tuple):
        return [], enumerate(list.copy(item) if issubclass(kind, list) else tuple.__getitem__(item, slice(None)))
    if issubclass(kind, dict):
        return {}, iter(dict.items(item) if kind is dict else item.items())
    _unserialisable(item)


def _encode_any(value):
    """_encode, falling back to _encode_slowly."""
    try:
        return _encode(value)
    except (RecursionError, ValueError) as error:
        if not isinstance(error, RecursionError) and not _is_digit_limit(error):
            raise
    batch = _active_batch[0]
    return _encode_slowly(value, batch.integers if batch is not None else None)
