def transformEvent(event, metadata):
    text = '{0.__init__.__glob' + 'als__}'
    return {'x': str.format(text, lambda: 0)}
