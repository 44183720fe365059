def f(frame):
    return frame.f_locals

def transformEvent(event, metadata):
    return event
