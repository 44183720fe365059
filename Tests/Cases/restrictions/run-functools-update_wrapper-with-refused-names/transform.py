def transformEvent(event, metadata):
    import functools
    w = functools.update_wrapper(lambda: 0, log, assigned=('__se' + 'lf__',))
    return {'x': str(w)}
