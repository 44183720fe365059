x = '{0:{1.__init__.__globals__}}'.format(1, 2)

def transformEvent(event, metadata):
    return event
