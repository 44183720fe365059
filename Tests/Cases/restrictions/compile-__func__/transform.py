class C:
    def m(self):
        pass

x = C().m.__func__

def transformEvent(event, metadata):
    return event
