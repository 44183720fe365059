def transformBatch(events, metadata):
    return [dict(e, src=metadata(e).get("sourceId")) for e in events if e["n"] != 2]
