def transformEvent(event, metadata):
    name = '__sel' + 'f__'
    return {'x': str(getattr(len, name))}
