def transformEvent(e, m):
    return ().__class__.__base__

def transformEvent(event, metadata):
    return event
