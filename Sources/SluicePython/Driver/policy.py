# ---- Policy: allowed modules, refused builtins, the time limit ----------------------------
# Standard-library modules user code may import: pure, without side effects outside the call.
# A guard rail, not the security boundary (that is the worker process).
ALLOWED_MODULES = frozenset("""
    abc base64 binascii bisect calendar cmath collections collections.abc copy dataclasses datetime
    decimal difflib enum fractions functools hashlib heapq hmac html ipaddress itertools json
    math numbers operator random re statistics string struct textwrap time typing unicodedata
    urllib urllib.parse uuid zoneinfo zlib
""".split())

def preload():
    """Loads now what a worker could not load once confined (its seccomp filter refuses opening
    files): every codec and every time zone. Then records the shared state afresh
    (_SharedState). Returns how many modules are loaded."""
    _preload_codecs()
    _preload_time_zones()
    _shared_state.take()
    if _zone_cache is not None:
        _shared_state.add("zoneinfo", [_zone_cache])
    return len(ALLOWED_MODULES)


def _preload_codecs():
    """Imports every codec of the standard library's encodings package now: str.encode and
    bytes.decode import a codec's module on its first use ("utf-16-le", "latin-1", "idna", …),
    which a confined worker could no longer read from disk."""
    import os
    import encodings
    for base in encodings.__path__:
        for name in sorted(os.listdir(base)):
            module, extension = os.path.splitext(name)
            if extension == ".py" and module not in ("__init__", "aliases"):
                try:
                    _real_import("encodings." + module)
                except Exception:
                    pass  # a codec of another platform (mbcs, oem on Windows)


_TIME_ZONES = []
# What finalisers that kept changing the shared state back would have run on (see
# _Batch.restore_shared_state).
_never_finalised = []


def _preload_time_zones():
    """Loads every zone under zoneinfo.TZPATH (~600, ~30 ms) and keeps them, so ZoneInfo(key)
    answers from its cache in a worker that can no longer open the zone files."""
    zoneinfo = sys.modules.get("zoneinfo")
    if zoneinfo is None:
        return
    for base in zoneinfo.TZPATH:
        for root, directories, files in os.walk(base):
            directories[:] = [name for name in directories if name not in ("posix", "right")]
            for name in files:
                try:
                    _TIME_ZONES.append(zoneinfo.ZoneInfo(os.path.relpath(os.path.join(root, name), base)))
                except Exception:
                    pass


# Builtins user code may not call, each replaced by a function that says so.
REFUSED_BUILTINS = ("open", "eval", "exec", "compile", "input", "breakpoint", "help", "exit", "quit",
                    "memoryview", "globals", "locals", "vars")


class TimeLimitExceeded(BaseException):
    """Raised into user code when its call runs past the time limit (not an Exception, so
    `except Exception` does not swallow it; code that catches it anyway is stopped again at its
    next line)."""


# The deadline signal's handler is a C function: it raises TimeLimitExceeded only while a call
# (between _enter and _leave) is past its deadline, and then also stops every further line of
# code that is not this driver's.
_host["configure"](TimeLimitExceeded, _DRIVER_FILE)
signal.signal(_sluice_signal, _host["on_deadline"])
del _sluice_signal


def _refused(name):
    def refused(*args, **kwargs):
        raise PermissionError(f"{name}() is not available in transformations")
    refused.__name__ = name
    return refused


_REFUSED_FUNCTIONS = {name: _refused(name) for name in REFUSED_BUILTINS}
