def f(frame):
    return frame.f_globals

def transformEvent(event, metadata):
    return event
