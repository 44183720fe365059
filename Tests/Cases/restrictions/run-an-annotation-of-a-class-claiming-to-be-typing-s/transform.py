def transformEvent(event, metadata):
    import typing
    class C:
        __module__ = 'typing'
        x: "sys.modules"
    return {'x': str(typing.get_type_hints(C))}
