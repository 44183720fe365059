x = int.__mro__

def transformEvent(event, metadata):
    return event
