def transformEvent(event, metadata):
    if event["n"] == 1:
        return None
