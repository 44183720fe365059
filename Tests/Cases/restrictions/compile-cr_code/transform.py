async def c():
    pass

x = c().cr_code

def transformEvent(event, metadata):
    return event
