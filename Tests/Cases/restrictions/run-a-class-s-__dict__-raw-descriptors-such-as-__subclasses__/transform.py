def transformEvent(event, metadata):
    return {'x': str(type.__dict__['__subclass' + 'es__'](object))}
