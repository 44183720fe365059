f = lambda: 0
setattr(f, '__code__', None)

def transformEvent(event, metadata):
    return event
