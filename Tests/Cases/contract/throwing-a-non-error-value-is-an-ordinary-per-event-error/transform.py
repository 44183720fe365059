class Oops(Exception):
    pass

def transformEvent(event, metadata):
    if event["n"] == 1:
        raise Oops("plain text")
    if event["n"] == 2:
        raise KeyError("code")
    return event
