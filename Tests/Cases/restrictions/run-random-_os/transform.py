def transformEvent(event, metadata):
    import random
    return {'x': str(random._os.system)}
