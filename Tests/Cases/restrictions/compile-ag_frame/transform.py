async def a():
    yield 1

x = a().ag_frame

def transformEvent(event, metadata):
    return event
