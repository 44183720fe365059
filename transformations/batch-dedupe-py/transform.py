# batch-dedupe-py: the Python twin of batch-dedupe. Within each batch,
# - drops events whose messageId was already seen (the first one wins; retries and double sends
#   from the SDKs repeat the messageId);
# - merges identify events of the same userId into the first of them: the later events' traits
#   (and context.traits) are shallow-merged over the earlier ones (a later value, null included,
#   overrides), the merged event lists the ids it absorbed in context.mergedMessageIds, and the
#   later events are dropped.
# The merged event keeps the first event's envelope (timestamps, other context keys). The order
# of the kept events is the input order. Events without a string messageId are kept
# as they are (they cannot be deduplicated); identify events without a string userId are not merged.
# Only events within one batch are compared (module state does not outlive a batch).


def shown(message_id):
    return message_id if isinstance(message_id, str) else "(no messageId)"


def merge_traits(target, source):
    """Shallow-merges source's keys over target (a dict, or {} when it is not one)."""
    merged = target if isinstance(target, dict) else {}
    for key, value in source.items():
        merged[key] = value
    return merged


def transformBatch(events, metadata):
    seen = set()
    first_identify = {}  # userId -> the kept identify event
    kept = []
    for event in events:
        message_id = event.get("messageId")
        if isinstance(message_id, str):
            if message_id in seen:
                log(f"dropped {message_id}: duplicate messageId")
                continue
            seen.add(message_id)
        user_id = event.get("userId")
        if event.get("type") == "identify" and isinstance(user_id, str) and user_id != "":
            first = first_identify.get(user_id)
            if first is None:
                first_identify[user_id] = event
            else:
                if isinstance(event.get("traits"), dict):
                    first["traits"] = merge_traits(first.get("traits"), event["traits"])
                context = event.get("context")
                if isinstance(context, dict) and isinstance(context.get("traits"), dict):
                    if not isinstance(first.get("context"), dict):
                        first["context"] = {}
                    first["context"]["traits"] = merge_traits(first["context"].get("traits"), context["traits"])
                if not isinstance(first.get("context"), dict):
                    first["context"] = {}
                if not isinstance(first["context"].get("mergedMessageIds"), list):
                    first["context"]["mergedMessageIds"] = []
                first["context"]["mergedMessageIds"].append(message_id if isinstance(message_id, str) else None)
                log(f"merged {shown(message_id)} into {shown(first.get('messageId'))}: identify of {user_id}")
                continue
        kept.append(event)
    return kept
