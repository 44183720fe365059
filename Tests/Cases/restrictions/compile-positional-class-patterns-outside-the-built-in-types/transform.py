class C:
    __match_args__ = ('a',)

match 1:
    case C(x):
        pass

def transformEvent(event, metadata):
    return event
