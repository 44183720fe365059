"""url: query-string parsing and UTM extraction (the Python twin of url.js, same results).

    from url import parse_query, utm_fields
    parse_query("https://shop.example/?q=red+shoes&utm_source=news")  # {"q": "red shoes", "utm_source": "news"}
    utm_fields("https://shop.example/?utm_source=news&utm_campaign=spring%20sale")
        # {"source": "news", "name": "spring sale"}

Rules (kept identical in url.js):
- the query is the text between the first "?" and the first "#"; a "?" that only appears after
  "#" (hash routing) is part of the fragment, as in the URL standard, so it has no query;
- pairs are split on "&", key from value on the first "="; "+" means a space;
- percent-escapes are decoded as UTF-8; a value that is not valid percent-encoding ("%zz",
  "%E2%82", a lone "%") is kept exactly as written instead of failing (JavaScript's
  decodeURIComponent throws on those, urllib.parse.unquote would silently keep "%zz" and put
  U+FFFD for bad UTF-8, so neither is used as is);
- empty keys are skipped, a key without "=" has the value "", and the first occurrence of a
  repeated key wins;
- anything that is not a string gives an empty result.
"""
import re
from urllib.parse import unquote_to_bytes

__all__ = ["UTM_FIELDS", "decode_component", "query_string", "parse_query", "utm_fields"]

# The UTM query parameters and the `context.campaign` field each one fills.
UTM_FIELDS = (
    ("utm_source", "source"),
    ("utm_medium", "medium"),
    ("utm_campaign", "name"),
    ("utm_term", "term"),
    ("utm_content", "content"),
)

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_component(text):
    """Percent-decodes one query component ("+" is a space); invalid encoding returns `text` unchanged."""
    if not isinstance(text, str):
        return ""
    spaced = text.replace("+", " ")
    if _BAD_ESCAPE.search(spaced):
        return text
    try:
        return unquote_to_bytes(spaced).decode("utf-8")  # strict, like decodeURIComponent
    except UnicodeError:  # bad UTF-8 after decoding, or a lone surrogate in the text itself
        return text


def query_string(url):
    """The raw query string of a URL (without "?" and the fragment), or "" when there is none."""
    if not isinstance(url, str):
        return ""
    question = url.find("?")
    if question < 0:
        return ""
    hash_at = url.find("#")
    if 0 <= hash_at < question:
        return ""
    return url[question + 1:hash_at if hash_at >= 0 else len(url)]


def parse_query(url):
    """The query of a URL as a dict of decoded key -> decoded value (first occurrence wins)."""
    result = {}
    query = query_string(url)
    if query == "":
        return result
    for pair in query.split("&"):
        if pair == "":
            continue
        key, equals, value = pair.partition("=")
        key = decode_component(key)
        value = decode_component(value) if equals else ""
        if key == "" or key in result:
            continue
        result[key] = value
    return result


def utm_fields(url):
    """The non-empty UTM parameters of a URL as a campaign dict ({source, medium, name, term, content})."""
    query = parse_query(url)
    campaign = {}
    for parameter, field in UTM_FIELDS:
        value = query.get(parameter)
        if isinstance(value, str) and value != "":
            campaign[field] = value
    return campaign
