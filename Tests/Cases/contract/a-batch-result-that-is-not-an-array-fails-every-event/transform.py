def transformBatch(events, metadata):
    return {"events": events}
