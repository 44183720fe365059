def transformEvent(e, m):
    if e.get('call') == 'none':
        return {'v': getCredential()}
    if e.get('call') == 'null':
        return {'v': getCredential(None)}
    if e.get('call') == 'number':
        return {'v': getCredential(1)}
    return {'v': getCredential('key1', 'key2'), 'missing': getCredential('nope')}
