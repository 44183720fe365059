def transformEvent(event, metadata):
    import calendar
    calendar.main(['calendar'])
    return {}
