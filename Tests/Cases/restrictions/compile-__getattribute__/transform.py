x = object.__getattribute__(len, 'x')

def transformEvent(event, metadata):
    return event
