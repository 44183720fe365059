def transformEvent(event, metadata):
    import dataclasses
    class C:
        __annotations__ = {"__class__.__base__": int}
    dataclasses.dataclass(C, init=False, eq=False)
    return {}
