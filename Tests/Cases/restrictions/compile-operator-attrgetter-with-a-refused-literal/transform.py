import operator
x = operator.attrgetter('a.__globals__')

def transformEvent(event, metadata):
    return event
