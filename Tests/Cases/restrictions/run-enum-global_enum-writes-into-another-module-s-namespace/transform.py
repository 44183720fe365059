def transformEvent(event, metadata):
    import enum
    class E(enum.Enum):
        __module__ = 'json'
        A = 1
    enum.global_enum(E)
    return {}
