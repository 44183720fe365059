def transformEvent(event, metadata):
    return {'x': str(getattr(int, '__dict__'))}
