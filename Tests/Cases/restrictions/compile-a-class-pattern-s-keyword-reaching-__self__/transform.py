match len:
    case object(__self__=found):
        pass

def transformEvent(event, metadata):
    return event
