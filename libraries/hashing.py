"""hashing: SHA-256 and FNV-1a as hex strings (the Python twin of hashing.js).

    from hashing import sha256_hex, fnv1a_hex
    sha256_hex("hello")  # "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
"""
import hashlib

__all__ = ["sha256_hex", "fnv1a_hex"]


def sha256_hex(text):
    """SHA-256 of a string (hashed as UTF-8), as 64 lowercase hex digits."""
    return hashlib.sha256(str(text).encode("utf-8")).hexdigest()


def fnv1a_hex(text):
    """32-bit FNV-1a of a string's UTF-16 code units, as 8 hex digits (matches hashing.js)."""
    value = 0x811C9DC5
    for unit in _utf16_units(str(text)):
        value ^= unit
        value = (value * 0x01000193) & 0xFFFFFFFF
    return f"{value:08x}"


def _utf16_units(text):
    data = text.encode("utf-16-le")
    return [data[i] | (data[i + 1] << 8) for i in range(0, len(data), 2)]
