x = [].__reduce_ex__(4)

def transformEvent(event, metadata):
    return event
