def f(frame):
    return frame.f_code

def transformEvent(event, metadata):
    return event
