def transformEvent(event, metadata):
    return ["text", 42, True][event["n"] - 1]
