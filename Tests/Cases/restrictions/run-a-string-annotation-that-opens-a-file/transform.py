def transformEvent(event, metadata):
    import typing
    class C:
        x: "open('/etc/hostname').read()"
    return {'x': str(typing.get_type_hints(C))}
