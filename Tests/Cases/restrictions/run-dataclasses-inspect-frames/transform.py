def transformEvent(event, metadata):
    import dataclasses
    return {'x': str(dataclasses.inspect.currentframe())}
