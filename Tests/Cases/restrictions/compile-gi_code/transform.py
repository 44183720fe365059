def g():
    yield 1

x = g().gi_code

def transformEvent(event, metadata):
    return event
