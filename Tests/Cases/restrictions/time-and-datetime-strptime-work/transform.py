# They import _strptime from C, through the transformation's import function.
import datetime, time

def transformEvent(e, m):
    return {"d": datetime.datetime.strptime("2024-01-02", "%Y-%m-%d").isoformat(), "y": time.strptime("2024", "%Y").tm_year}
