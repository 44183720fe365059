x = int.__bases__

def transformEvent(event, metadata):
    return event
