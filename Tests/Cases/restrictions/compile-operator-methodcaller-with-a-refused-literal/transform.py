from operator import methodcaller
x = methodcaller('__reduce__')

def transformEvent(event, metadata):
    return event
