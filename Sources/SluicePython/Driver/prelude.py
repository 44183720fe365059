# ---- Prelude: the modules the driver uses and the host's functions ------------------------
import _abc
import _locale
import array as _array
import dis
import _string
import _struct
import ast
import difflib as _difflib
import functools
import gc
import json
import os
import signal
import sys
import traceback
import types
import warnings
import builtins as _builtins

# Standard-library code that warns during a batch would print to the process's standard error
# and record the warning in its module's namespace: neither is any use here.
warnings.simplefilter("ignore")

# Errors in finalisers (a __del__, a generator's finally stopped at the time limit) are the user
# code's and are ignored: the default hook would print them, calling their __repr__, on the
# process's standard error.
sys.unraisablehook = lambda unraisable: None

# This file's name in its code objects: the stop tracer never stops the driver's own frames.
_DRIVER_FILE = (lambda: None).__code__.co_filename
_host = _sluice_host
del _sluice_host
_enter = _host["enter"]
_enter_release = _host["enter_release"]
_leave = _host["leave"]
_memory_exceeded = _host["memory_exceeded"]
_host_fetch = _host["fetch"]
_host_progress = _host["progress"]
import time as _time
_monotonic_ns = _time.monotonic_ns

# A class's __name__ read without its metaclass's code (which may be the user's).
_type_name = type.__dict__["__name__"].__get__
_RS = "\x1e"
_US = "\x1f"
_ENVELOPE_KEYS = frozenset(("message", "metadata", "destination", "libraries", "credentials"))
_real_import = _builtins.__import__
_CoroutineType = types.CoroutineType
