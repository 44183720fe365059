x = __builtins__

def transformEvent(event, metadata):
    return event
