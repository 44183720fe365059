def transformEvent(event, metadata):
    if event["n"] == 2:
        x = None
        return x.y
    return event
