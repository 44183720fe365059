def transformEvent(event, metadata):
    import operator
    return {'x': str(operator.attrgetter('__sel' + 'f__')(len))}
