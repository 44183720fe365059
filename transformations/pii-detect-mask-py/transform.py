# pii-detect-mask-py: the Python twin of pii-detect-mask. Finds e-mail addresses, phone numbers
# and Luhn-valid card numbers in every string inside properties, traits and context.traits (at any
# depth, lists included) and masks them with the pii library: a***@example.com, +1******1234,
# ************1234.
# The counts go to context.piiMasked {email, phone, card} on every event (a missing or null
# context becomes {}; a context that is not an object is left alone and gets no counts); a line
# is logged for each event where something was masked.
# Keys, numbers and booleans are not changed (a card number sent as a JSON number stays as it is).
from pii import mask_deep


def mask_field(container, key, total):
    """Masks container[key] (in place for dicts and lists), adding what was masked to total."""
    if key not in container:
        return
    result = mask_deep(container[key])
    container[key] = result["value"]
    for kind in ("email", "phone", "card"):
        total[kind] += result["counts"][kind]


def transformEvent(event, metadata):
    total = {"email": 0, "phone": 0, "card": 0}
    mask_field(event, "properties", total)
    mask_field(event, "traits", total)
    if event.get("context") is None:
        event["context"] = {}
    if isinstance(event["context"], dict):
        mask_field(event["context"], "traits", total)
        event["context"]["piiMasked"] = total
    masked = total["email"] + total["phone"] + total["card"]
    if masked > 0:
        message_id = event.get("messageId") if isinstance(event.get("messageId"), str) else "(no messageId)"
        log(f"masked {masked} in {message_id}: {total['email']} email, {total['phone']} phone, {total['card']} card")
    return event
