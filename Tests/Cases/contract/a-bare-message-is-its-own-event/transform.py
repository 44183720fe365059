def transformEvent(event, metadata):
    return {"event": event, "meta": metadata(event)}
