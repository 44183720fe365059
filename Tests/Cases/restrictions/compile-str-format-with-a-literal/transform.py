x = str.format('{0.__self__}', len)

def transformEvent(event, metadata):
    return event
