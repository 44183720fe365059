def transformBatch(events, metadata):
    return [events[0], "oops"]
