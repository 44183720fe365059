x = log.__self__

def transformEvent(event, metadata):
    return event
