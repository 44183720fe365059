def transformBatch(events, metadata):
    return events + [{"messageId": "new", "made": True}]
