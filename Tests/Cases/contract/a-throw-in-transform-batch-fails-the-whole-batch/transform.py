def transformBatch(events, metadata):
    raise ValueError("too many")
