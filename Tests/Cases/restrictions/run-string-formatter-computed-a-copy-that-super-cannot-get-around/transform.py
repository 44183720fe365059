def transformEvent(event, metadata):
    import string
    text = '{0.__init__.__glob' + 'als__}'
    return {'x': string.Formatter().format(text, lambda: 0)}
