def f():
    pass

x = '{0.__globals__}'.format(f)

def transformEvent(event, metadata):
    return event
