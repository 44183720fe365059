x = __loader__.load_module('posix')

def transformEvent(event, metadata):
    return event
