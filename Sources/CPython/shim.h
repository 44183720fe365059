// CPython: the embedding API of Debian's CPython 3.11 (libpython3-dev, pkg-config python3-embed).
// Imported only by SluicePython (and the CPythonSupport C target, which wraps the macros and
// variadic functions Swift cannot call).
#ifndef SLUICE_CPYTHON_SHIM_H
#define SLUICE_CPYTHON_SHIM_H
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#endif
