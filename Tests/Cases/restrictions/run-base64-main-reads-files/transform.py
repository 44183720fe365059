def transformEvent(event, metadata):
    import base64
    base64.main()
    return {}
