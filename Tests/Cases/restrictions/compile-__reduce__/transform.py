x = log.__reduce__()

def transformEvent(event, metadata):
    return event
