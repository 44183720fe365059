f = lambda: 0
x = f.__closure__

def transformEvent(event, metadata):
    return event
