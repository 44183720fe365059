def transformEvent(event, metadata):
    return [{"i": 1, "id": event["messageId"]}, {"i": 2, "id": event["messageId"]}]
