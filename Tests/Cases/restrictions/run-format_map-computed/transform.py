def transformEvent(event, metadata):
    text = '{a.__init__.__glob' + 'als__}'
    return {'x': text.format_map({'a': lambda: 0})}
