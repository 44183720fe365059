def transformEvent(e, m):
    return {'n': len(object.__subclasses__())}

def transformEvent(event, metadata):
    return event
