def transformEvent(event, metadata):
    return {"known": metadata(event), "other": metadata({"messageId": "b"}), "unknown": metadata({"messageId": "zz"}), "notObject": metadata(5)}
