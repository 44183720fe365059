def transformEvent(event, metadata):
    import json
    return {'x': str(getattr(json, '__load' + 'er__'))}
