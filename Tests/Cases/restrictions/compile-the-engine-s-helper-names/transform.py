x = __sluice_dict__

def transformEvent(event, metadata):
    return event
