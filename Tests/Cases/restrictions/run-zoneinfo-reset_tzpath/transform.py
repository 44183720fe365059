def transformEvent(event, metadata):
    import zoneinfo
    zoneinfo.reset_tzpath(['/etc'])
    return {}
