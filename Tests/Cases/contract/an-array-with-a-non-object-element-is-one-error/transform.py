def transformEvent(event, metadata):
    return [{"ok": True}, 5] if event["n"] == 1 else [event, [1]]
