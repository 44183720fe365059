def transformEvent(event, metadata):
    import uuid
    return {'x': uuid._get_command_stdout('id')}
