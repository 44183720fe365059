def transformEvent(event, metadata):
    text = '{0.__init__.__glob' + 'als__}'
    return {'x': getattr(text, 'format')(lambda: 0)}
