x = int.mro()

def transformEvent(event, metadata):
    return event
