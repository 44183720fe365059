import sneaky

def transformEvent(e, m):
    return e
