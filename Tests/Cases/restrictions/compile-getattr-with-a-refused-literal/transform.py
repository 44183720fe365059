x = getattr(len, '__self__')

def transformEvent(event, metadata):
    return event
