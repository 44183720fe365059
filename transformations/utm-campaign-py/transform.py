# utm-campaign-py: fill `context.campaign` from the UTM parameters of the page URL
# (the Python twin of utm-campaign; same output for the same input).
#
# - The URL is `context.page.url`; when that has no UTM parameter (missing, not a string, no
#   query, malformed), `properties.url` is tried instead (server-side and mobile sources often
#   only send that).
# - utm_source -> source, utm_medium -> medium, utm_campaign -> name, utm_term -> term,
#   utm_content -> content; only parameters with a non-empty value are set. Values are
#   percent-decoded ("+" is a space); a value with broken percent-encoding is kept as written
#   (see libraries/url.py), a malformed URL simply yields nothing.
# - A `context.campaign` the SDK already filled wins: URL values only fill the keys it lacks.
#   A `context` or `context.campaign` that is not an object is left alone (and logged).
# - Events are never dropped.
from url import utm_fields


def _campaign_from(event):
    context = event.get("context")
    page = context.get("page") if isinstance(context, dict) else None
    properties = event.get("properties")
    candidates = (
        ("context.page.url", page.get("url") if isinstance(page, dict) else None),
        ("properties.url", properties.get("url") if isinstance(properties, dict) else None),
    )
    for where, url in candidates:
        campaign = utm_fields(url)
        if campaign:
            return where, campaign
    return None, {}


def _message_id(event):
    message_id = event.get("messageId")
    return message_id if isinstance(message_id, str) else "(no messageId)"


def transformEvent(event, metadata):
    where, campaign = _campaign_from(event)
    if where is None:
        return event
    message_id = _message_id(event)
    if event.get("context") is None:
        event["context"] = {}
    context = event["context"]
    if not isinstance(context, dict):
        log(f"utm-campaign: {message_id}: context is not an object, campaign not set")
        return event
    existing = context.get("campaign")
    if existing is not None and not isinstance(existing, dict):
        log(f"utm-campaign: {message_id}: context.campaign is not an object, left as is")
        return event
    if existing is None:
        existing = context["campaign"] = {}
    added = []
    for field, value in campaign.items():
        if existing.get(field) in (None, ""):
            existing[field] = value
            added.append(field)
    log(f"utm-campaign: {message_id}: from {where} set [{', '.join(added)}]")
    return event
