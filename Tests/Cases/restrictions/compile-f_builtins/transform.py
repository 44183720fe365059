def f(frame):
    return frame.f_builtins

def transformEvent(event, metadata):
    return event
