def transformEvent(event, metadata):
    return []
