# consent-filter-py: drop events the user did not consent to for this destination, and strip
# personal traits when marketing consent is denied (the Python twin of consent-filter; same
# output for the same input).
#
# - The destination's required consent category is the credential `consentCategory` when it is
#   set (one transformation per destination), else looked up by `metadata.destinationType` in
#   REQUIRED_CATEGORY, else DEFAULT_CATEGORY. Any spelling the `consent` library understands
#   works ("Advertising", "C0004", "targeting" all mean "marketing").
# - Denials are read with the `consent` library from `context.consent.categoryPreferences`
#   (category -> false) and from RudderStack's OneTrust-style
#   `context.consentManagement.deniedConsentIds` (C0002 analytics, C0004 marketing, ...).
# - Required category denied -> the event is dropped. "necessary" can never be denied.
# - Marketing denied and the event kept -> the PII keys in `context.traits` are removed (the
#   brief's case is "only marketing is denied"; if more categories are denied and the event still
#   survives, PII is removed as well, as the stricter choice).
#
# CHOICE: an event WITHOUT consent information (neither field present, or present with the wrong
# type) is KEPT unchanged. Consent is only collected on the web where a consent banner runs;
# server-side and mobile sources, and regions without a banner, send no consent fields, and
# dropping those would silently lose most of the data. Client-side SDKs already stop sending when
# consent is refused before load. If your legal basis requires opt-in everywhere, change
# ABSENT_CONSENT to "drop".
from consent import has_consent_info, denied_categories, normalise_category

ABSENT_CONSENT = "keep"
DEFAULT_CATEGORY = "analytics"

# RudderStack destination type -> the consent category it needs.
REQUIRED_CATEGORY = {
    "GA4": "analytics",
    "AM": "analytics",
    "MP": "analytics",
    "HEAP": "analytics",
    "FACEBOOK_PIXEL": "marketing",
    "GOOGLE_ADWORDS_REMARKETING_LISTS": "marketing",
    "TIKTOK_ADS": "marketing",
    "BRAZE": "marketing",
    "INTERCOM": "functional",
    "WEBHOOK": "functional",
    "BQ": "necessary",
    "S3": "necessary",
}

PII_TRAITS = ("email", "phone", "mobile", "phoneNumber", "firstName", "lastName", "name",
              "first_name", "last_name", "phone_number", "address", "street", "postalCode", "birthday")


def _message_id(event):
    message_id = event.get("messageId")
    return message_id if isinstance(message_id, str) else "(no messageId)"


def _required_category(event, metadata):
    configured = normalise_category(getCredential("consentCategory"))
    if configured is not None:
        return configured
    destination_type = metadata(event).get("destinationType")
    if isinstance(destination_type, str):
        return REQUIRED_CATEGORY.get(destination_type.upper(), DEFAULT_CATEGORY)
    return DEFAULT_CATEGORY


def transformEvent(event, metadata):
    if not has_consent_info(event):
        return event if ABSENT_CONSENT == "keep" else None
    required = _required_category(event, metadata)
    denied = [category for category in denied_categories(event) if category != "necessary"]
    if required in denied:
        log(f'consent-filter: {_message_id(event)}: dropped, "{required}" consent denied')
        return None
    context = event.get("context")
    traits = context.get("traits") if isinstance(context, dict) else None
    if "marketing" in denied and isinstance(traits, dict):
        removed = [key for key in PII_TRAITS if key in traits]
        for key in removed:
            del traits[key]
        if removed:
            log(f"consent-filter: {_message_id(event)}: marketing denied, removed traits {', '.join(removed)}")
    return event
