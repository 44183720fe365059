async def c():
    pass

x = c().cr_frame

def transformEvent(event, metadata):
    return event
