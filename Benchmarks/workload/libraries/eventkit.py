"""eventkit: helpers of Sluice's own benchmark workload (the Python twin of eventkit.js).

    from eventkit import fingerprint, without_nulls, order_total
"""

__all__ = ["fingerprint", "without_nulls", "order_total"]


def fingerprint(text):
    """32-bit FNV-1a of a string's UTF-16 code units, as 8 hex digits (matches eventkit.js)."""
    value = 0x811C9DC5
    data = str(text).encode("utf-16-le")
    for index in range(0, len(data), 2):
        value ^= data[index] | (data[index + 1] << 8)
        value = (value * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def without_nulls(mapping):
    """A copy of a dict without its None-valued keys (one level deep)."""
    return {key: value for key, value in mapping.items() if value is not None}


def order_total(products):
    """The sum of price × quantity over an order's products, rounded to cents."""
    total = 0
    for product in products:
        total += (product.get("price") or 0) * (product.get("quantity") or 1)
    return round(total * 100) / 100
