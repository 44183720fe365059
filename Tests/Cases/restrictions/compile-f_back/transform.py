def f(frame):
    return frame.f_back

def transformEvent(event, metadata):
    return event
