# mask-pii-py: hash e-mail addresses (SHA-256, lower-cased and trimmed first, so the same address
# always gives the same hash), remove phone numbers, and drop internal heartbeat events.
from hashing import sha256_hex

PHONE_KEYS = ("phone", "phoneNumber", "mobile")


def scrub(traits):
    if not isinstance(traits, dict):
        return
    email = traits.get("email")
    if isinstance(email, str) and email:
        traits["emailSha256"] = sha256_hex(email.strip().lower())
        del traits["email"]
    for key in PHONE_KEYS:
        traits.pop(key, None)


def transformEvent(event, metadata):
    if event.get("type") == "track" and event.get("event") == "Internal Heartbeat":
        return None
    scrub(event.get("traits"))
    context = event.get("context")
    if isinstance(context, dict):
        scrub(context.get("traits"))
        context["maskedBy"] = "mask-pii"
    log("masked", event.get("type"), "event", event.get("messageId"))
    return event
