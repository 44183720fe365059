def transformEvent(event, metadata):
    event["seen"] = metadata(event).get("sourceId")
    return event
