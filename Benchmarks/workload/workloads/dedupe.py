# dedupe: a batch transformation. Keeps the first event per anonymous id, type and event name in
# the batch, and adds the order total to "Order Completed" events (the twin of dedupe.js).
from eventkit import order_total


def transformBatch(events, metadata):
    seen = set()
    kept = []
    for event in events:
        key = f"{event.get('anonymousId')}|{event.get('type')}|{event.get('event') or ''}"
        if key in seen:
            continue
        seen.add(key)
        if event.get("event") == "Order Completed" and isinstance(event.get("properties"), dict):
            event["properties"]["total"] = order_total(event["properties"].get("products") or [])
        kept.append(event)
    return kept
