import string
x = string.Formatter().format('{0.f_back}', 1)

def transformEvent(event, metadata):
    return event
