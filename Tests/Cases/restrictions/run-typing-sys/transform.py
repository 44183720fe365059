def transformEvent(event, metadata):
    import typing
    return {'x': str(typing.sys.modules['os'])}
