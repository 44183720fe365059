def f():
    pass

x = f.__builtins__

def transformEvent(event, metadata):
    return event
