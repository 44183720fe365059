def transformEvent(event, metadata):
    return {'x': str(vars(int))}
