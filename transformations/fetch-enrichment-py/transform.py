# fetch-enrichment-py: the Python twin of fetch-enrichment (see its header for the rules).
from urllib.parse import quote

CRM = "https://crm.example.com/v1/users/"


def transformEvent(event, metadata):
    user_id = event.get("userId")
    if not isinstance(user_id, str) or user_id == "":
        return event
    context = event.setdefault("context", {})
    traits = context.setdefault("traits", {})
    try:
        response = fetchV2(CRM + quote(user_id, safe="-_.!~*'()"),
                           {"headers": {"authorization": f"Bearer {getCredential('crmApiKey') or ''}"}})
    except Exception:
        traits["crm"] = {"error": "request failed"}
        log(f"fetch-enrichment: {user_id}: request failed")
        return event
    status = response["status"]
    if status == 404:
        traits["crm"] = None
    elif status >= 400:
        traits["crm"] = {"error": f"status {status}"}
    else:
        body = response.get("body") or {}
        traits["crm"] = {"plan": body.get("plan"), "tier": body.get("tier")}
    log(f"fetch-enrichment: {user_id}: {status}")
    return event
