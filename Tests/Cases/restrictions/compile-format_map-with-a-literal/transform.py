x = '{a.__class__.__base__}'.format_map({'a': 1})

def transformEvent(event, metadata):
    return event
