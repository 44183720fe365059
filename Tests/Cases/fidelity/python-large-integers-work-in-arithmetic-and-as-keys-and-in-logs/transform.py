def transformEvent(event, metadata):
    log(event["n"] + 1)
    return {"next": event["n"] + 1, "keys": {event["n"]: True}, "digits": len(str(event["n"] // 10 ** 4000))}
