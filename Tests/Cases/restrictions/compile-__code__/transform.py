f = lambda: 0
x = f.__code__

def transformEvent(event, metadata):
    return event
