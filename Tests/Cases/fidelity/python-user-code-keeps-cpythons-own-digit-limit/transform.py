def transformEvent(event, metadata):
    return {"s": str(event["n"])}
