# tidy: the clean-up most transformations start with. Drops heartbeats, replaces e-mail
# addresses by a fingerprint, removes null properties and trims the label (the twin of tidy.js).
from eventkit import fingerprint, without_nulls


def transformEvent(event, metadata):
    if event.get("type") == "track" and event.get("event") == "Heartbeat":
        return None
    for traits in (event.get("traits"), (event.get("context") or {}).get("traits")):
        if isinstance(traits, dict) and isinstance(traits.get("email"), str):
            traits["emailId"] = fingerprint(traits.pop("email").strip().lower())
    properties = event.get("properties")
    if isinstance(properties, dict):
        properties = without_nulls(properties)
        if isinstance(properties.get("label"), str):
            properties["label"] = properties["label"].strip()
        event["properties"] = properties
    event["context"] = dict(event.get("context") or {}, tidiedBy="sluice-bench")
    return event
