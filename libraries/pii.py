"""pii: find and mask e-mail addresses, phone numbers and Luhn-valid card numbers in free text
(the Python twin of pii.js; both give the same result for the same input).

    from pii import mask_text, mask_deep
    mask_text("Mail ada@example.com or call +1 (555) 010-1234")
    # {"text": "Mail a***@example.com or call +1******1234", "counts": {"email": 1, "phone": 1, "card": 0}}

What is recognised:
- e-mail: local@domain.tld, Latin letters with accents allowed (ü, é, ø ...);
- card: 13-19 digits, plain or in groups of 4 (or Amex's 4-6-5) separated by spaces or dashes,
  and only when the Luhn check passes;
- phone: "+" and 8-15 digits with spaces, dots, dashes or parentheses between them, or the
  North-American (555) 010-1234 / 555-010-1234 / 555.010.1234 forms.
A card or phone candidate glued to a letter or digit (part of an ID) is left alone.
Masks: a***@example.com (first character of the local part kept), +1******1234 (the "+" and the
first digit kept when there is a "+", the last 4 digits kept), ************1234 (last 4 kept).
Patterns use [0-9] rather than \\d so that both languages match the same characters.
"""
import re

__all__ = ["luhn_valid", "mask_email", "mask_phone", "mask_card", "find_pii", "mask_text", "mask_deep"]

_EMAIL = r"[A-Za-z0-9._%+\-\u00C0-\u024F]+@(?:[A-Za-z0-9\-\u00C0-\u024F]+\.)+[A-Za-z\u00C0-\u024F]{2,}"
_CARD = r"[0-9]{13,19}|[0-9]{4}(?:[ -][0-9]{4}){2,3}(?:[ -][0-9]{1,3})?|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}"
_PHONE = r"\+[0-9](?:[ ().\-]{0,2}[0-9]){7,14}|\(?[0-9]{3}\)?[ .\-]?[0-9]{3}[ .\-][0-9]{4}"
_PII = re.compile(f"({_EMAIL})|({_CARD})|({_PHONE})")
_ALNUM = re.compile(r"[A-Za-z0-9]")
_NON_DIGIT = re.compile(r"[^0-9]")


def _digits_of(text):
    return _NON_DIGIT.sub("", text)


def _stars(count):
    return "*" * max(count, 0)


def luhn_valid(text=None):
    """Whether the digits of `text` (other characters ignored) pass the Luhn check (and there are some)."""
    if not isinstance(text, str):
        return False
    digits = _digits_of(text)
    if not digits:
        return False
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def mask_email(email=None):
    """"ada@example.com" -> "a***@example.com" (the first character of the local part is kept);
    without an "@" everything is masked ("***"). The mask functions return a non-string as it is."""
    if not isinstance(email, str):
        return email
    at = email.rfind("@")
    first = email[0] if at > 0 else ""
    return first + "***" + (email[at:] if at >= 0 else "")


def mask_phone(phone=None):
    """"+1 (555) 010-1234" -> "+1******1234"; "555-010-1234" -> "******1234"."""
    if not isinstance(phone, str):
        return phone
    digits = _digits_of(phone)
    if len(digits) <= 4:
        return _stars(len(digits))
    last = digits[-4:]
    if phone.startswith("+"):
        return "+" + digits[0] + _stars(len(digits) - 5) + last
    return _stars(len(digits) - 4) + last


def mask_card(number=None):
    """"4111 1111 1111 1111" -> "************1111"."""
    if not isinstance(number, str):
        return number
    digits = _digits_of(number)
    if len(digits) <= 4:
        return _stars(len(digits))
    return _stars(len(digits) - 4) + digits[-4:]


def _empty_counts():
    return {"email": 0, "phone": 0, "card": 0}


def _scan(text, found):
    """Calls found(type, value) for each PII value in text, in order, and returns the text with each
    replaced by what found returned."""
    def replace(match):
        value = match.group(0)
        if match.group(1) is not None:
            return found("email", value)
        start, end = match.span()
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if _ALNUM.match(before) or _ALNUM.match(after):
            return value
        if match.group(2) is not None:
            return found("card", value) if luhn_valid(value) else value
        return found("phone", value)
    return _PII.sub(replace, text)


def find_pii(text=None):
    """The PII values in a string, in order: [{"type": "email" | "phone" | "card", "value": ...}]."""
    results = []
    if not isinstance(text, str):
        return results

    def found(kind, value):
        results.append({"type": kind, "value": value})
        return value
    _scan(text, found)
    return results


_MASKERS = {"email": mask_email, "phone": mask_phone, "card": mask_card}


def mask_text(text=None):
    """Masks the PII in a string: {"text", "counts": {"email", "phone", "card"}}. A non-string is returned as it is."""
    counts = _empty_counts()
    if not isinstance(text, str):
        return {"text": text, "counts": counts}

    def found(kind, value):
        counts[kind] += 1
        return _MASKERS[kind](value)
    return {"text": _scan(text, found), "counts": counts}


def mask_deep(value=None):
    """Masks the PII in every string inside a value (dicts and lists, at any depth; keys, numbers and
    booleans are left alone). Dicts and lists are changed in place. Returns {"value", "counts"}.
    Walks with an explicit stack, so deep nesting cannot hit the recursion limit."""
    counts = _empty_counts()

    def mask_one(text):
        result = mask_text(text)
        for kind in ("email", "phone", "card"):
            counts[kind] += result["counts"][kind]
        return result["text"]

    if isinstance(value, str):
        return {"value": mask_one(value), "counts": counts}
    stack = [value]
    while stack:
        container = stack.pop()
        if isinstance(container, dict):
            keys = list(container.keys())
        elif isinstance(container, list):
            keys = range(len(container))
        else:
            continue
        for key in keys:
            item = container[key]
            if isinstance(item, str):
                container[key] = mask_one(item)
            elif isinstance(item, (dict, list)):
                stack.append(item)
    return {"value": value, "counts": counts}
