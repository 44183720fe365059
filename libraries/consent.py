"""consent: read the consent fields RudderStack events carry, as normalised category names.

The Python twin of consent.js; both give the same results for the same input.

    from consent import has_consent_info, denied_categories, is_denied
    denied_categories(event)          # ["marketing", "analytics"]
    is_denied(event, "Advertising")   # True: "advertising" is a synonym of "marketing"

Two shapes are understood:
- `context.consent.categoryPreferences`: a dict of category name -> boolean (the
  consent-manager-agnostic shape); a category counts as denied only when its value is the boolean
  False (a string "false", None or a missing key is not a denial);
- `context.consentManagement.deniedConsentIds` (RudderStack's OneTrust / Ketch / custom consent
  management): a list of consent ids; OneTrust's standard group ids C0001-C0005 are mapped to
  category names, other ids are used as category names themselves.

Category names are normalised so both shapes compare equal: lower case, blanks and dashes become
"_", and common synonyms map to one name (advertising/targeting -> marketing,
performance/statistics -> analytics, ...).
"""
import re

__all__ = ["ONETRUST_CATEGORIES", "CATEGORY_SYNONYMS", "normalise_category", "category_preferences",
           "denied_consent_ids", "has_consent_info", "denied_categories", "is_denied"]

# OneTrust's standard cookie-category group ids.
ONETRUST_CATEGORIES = {
    "C0001": "necessary",
    "C0002": "analytics",
    "C0003": "functional",
    "C0004": "marketing",
    "C0005": "social",
}

# Other names for the same category.
CATEGORY_SYNONYMS = {
    "advertising": "marketing",
    "ads": "marketing",
    "targeting": "marketing",
    "performance": "analytics",
    "statistics": "analytics",
    "measurement": "analytics",
    "strictly_necessary": "necessary",
    "essential": "necessary",
    "preferences": "functional",
    "personalisation": "functional",
    "personalization": "functional",
    "social_media": "social",
}

_SEPARATORS = re.compile(r"[ \t\-]+")


def normalise_category(name):
    """A category name or consent id as a normalised category name, or None when it is not a non-empty string."""
    if not isinstance(name, str):
        return None
    trimmed = name.strip(" \t-_")
    if trimmed == "":
        return None
    upper = trimmed.upper()
    if upper in ONETRUST_CATEGORIES:
        return ONETRUST_CATEGORIES[upper]
    key = _SEPARATORS.sub("_", trimmed.lower())
    return CATEGORY_SYNONYMS.get(key, key)


def _context(event):
    context = event.get("context") if isinstance(event, dict) else None
    return context if isinstance(context, dict) else {}


def category_preferences(event):
    """`context.consent.categoryPreferences` when it is a dict, else None."""
    consent = _context(event).get("consent")
    preferences = consent.get("categoryPreferences") if isinstance(consent, dict) else None
    return preferences if isinstance(preferences, dict) else None


def denied_consent_ids(event):
    """The string entries of `context.consentManagement.deniedConsentIds` when it is a list, else None."""
    management = _context(event).get("consentManagement")
    ids = management.get("deniedConsentIds") if isinstance(management, dict) else None
    if not isinstance(ids, list):
        return None
    return [consent_id for consent_id in ids if isinstance(consent_id, str)]


def has_consent_info(event):
    """True when the event carries either consent shape (even an empty one: "nothing denied")."""
    return category_preferences(event) is not None or denied_consent_ids(event) is not None


def denied_categories(event):
    """The denied categories, normalised, without duplicates, in the order they appear (preferences first)."""
    denied = []

    def add(name):
        category = normalise_category(name)
        if category is not None and category not in denied:
            denied.append(category)

    preferences = category_preferences(event)
    if preferences is not None:
        for name, granted in preferences.items():
            if granted is False:
                add(name)
    for consent_id in denied_consent_ids(event) or []:
        add(consent_id)
    return denied


def is_denied(event, category):
    """True when `category` (any spelling normalise_category accepts) is denied by the event."""
    wanted = normalise_category(category)
    return wanted is not None and wanted in denied_categories(event)
