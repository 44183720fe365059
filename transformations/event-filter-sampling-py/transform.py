# event-filter-sampling-py: drops internal and test traffic, and keeps a deterministic sample of
# high-volume events (the Python twin of event-filter-sampling).
#
# Dropped (with a log line saying why):
# - track events whose name is in DENY_EVENTS;
# - events whose context.traits.email (or traits.email) is at a test domain (TEST_DOMAINS, or a
#   subdomain of one);
# - events with properties.internal == True (the boolean; "true" as a string is not enough).
# Sampled: track events named in SAMPLE_RATES are kept when the user's bucket (FNV-1a of the
# userId, else the anonymousId, else the messageId, modulo 100) is below the rate, so a user is
# either always or never in the sample. Kept sampled events carry context.sampleRate.
from hashing import fnv1a_hex

DENY_EVENTS = ["Internal Heartbeat", "Test Event", "QA Smoke Test"]
TEST_DOMAINS = ["test.com", "example.test", "mailinator.com", "qa.acme.io"]
SAMPLE_RATES = {"Product Viewed": 25, "Search Performed": 25}  # percent kept


def is_object(value):
    return isinstance(value, dict)


def test_domain_of(email):
    """The test domain an e-mail address is at, or None."""
    if not isinstance(email, str):
        return None
    at = email.rfind("@")
    if at < 0:
        return None
    # Only spaces, tabs and line breaks are trimmed, as in the JavaScript twin's trim() for these.
    domain = email[at + 1:].strip(" \t\r\n").lower()
    for test in TEST_DOMAINS:
        if domain == test or domain.endswith("." + test):
            return test
    return None


def sampling_key(event):
    """The first non-empty string among userId, anonymousId and messageId: whose bucket decides."""
    for key in ("userId", "anonymousId", "messageId"):
        value = event.get(key)
        if isinstance(value, str) and value != "":
            return value
    return None


def transformEvent(event, metadata):
    message_id = event.get("messageId") if isinstance(event.get("messageId"), str) else "(no messageId)"
    name = event.get("event") if event.get("type") == "track" and isinstance(event.get("event"), str) else None
    if name is not None and name in DENY_EVENTS:
        log(f'dropped {message_id}: event "{name}" is in the deny list')
        return None
    context = event.get("context") if is_object(event.get("context")) else {}
    traits_list = [context.get("traits") if is_object(context.get("traits")) else {},
                   event.get("traits") if is_object(event.get("traits")) else {}]
    for traits in traits_list:
        domain = test_domain_of(traits.get("email"))
        if domain is not None:
            log(f"dropped {message_id}: e-mail at test domain {domain}")
            return None
    properties = event.get("properties")
    if is_object(properties) and properties.get("internal") is True:
        log(f"dropped {message_id}: properties.internal is true")
        return None
    if name is not None and name in SAMPLE_RATES:
        rate = SAMPLE_RATES[name]
        key = sampling_key(event)
        bucket = 0 if key is None else int(fnv1a_hex(key), 16) % 100
        if bucket >= rate:
            log(f'dropped {message_id}: "{name}" sampled at {rate}%, bucket {bucket}')
            return None
        if is_object(event.get("context")):
            event["context"]["sampleRate"] = rate / 100
        elif event.get("context") is None:
            event["context"] = {"sampleRate": rate / 100}
    return event
