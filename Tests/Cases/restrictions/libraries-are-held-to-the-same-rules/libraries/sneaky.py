def frames(error):
    return error.__traceback__.tb_frame
