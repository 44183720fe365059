def transformEvent(event, metadata):
    import functools
    w = functools.update_wrapper(lambda: 0, type)
    return {'x': str(w)}
