# lib-consent-examples-py: runs the functions of libraries/consent.py on example arguments, so the
# library's behaviour is pinned by snapshot cases; the inputs and expected output are those of
# lib-consent-examples (the JavaScript library), so both libraries are held to the same results.
#
# Each input event is {"messageId", "fn", "args"} with fn the JavaScript name of a library
# function (mapped below to its Python name); see libraries/examples.py for the output.
from consent import normalise_category, category_preferences, denied_consent_ids, has_consent_info, denied_categories, is_denied
from examples import run_example

FUNCTIONS = {
    "normaliseCategory": normalise_category,
    "categoryPreferences": category_preferences,
    "deniedConsentIds": denied_consent_ids,
    "hasConsentInfo": has_consent_info,
    "deniedCategories": denied_categories,
    "isDenied": is_denied,
}


def transformEvent(event, metadata):
    return run_example(FUNCTIONS, event)
