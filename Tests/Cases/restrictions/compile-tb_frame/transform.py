try:
    1 / 0
except Exception as error:
    x = error.__traceback__.tb_frame

def transformEvent(event, metadata):
    return event
