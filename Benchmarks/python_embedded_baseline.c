// The plain CPython loop (Benchmarks/python_plain_loop.py) run on the same shared libpython3.11
// that Sluice embeds, without Sluice around it: the fair baseline for Sluice's Python overhead.
// (Debian's /usr/bin/python3 is a statically linked, faster build of the same interpreter.)
//
//   scripts/bench-python-baseline.sh   (compiles and runs this for every workload)
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s python_plain_loop.py ARGS...\n", argv[0]);
        return 2;
    }
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    PyStatus status = PyConfig_SetBytesArgv(&config, argc - 1, argv + 1);
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) Py_ExitStatusException(status);
    FILE *script = fopen(argv[1], "r");
    if (!script) {
        perror(argv[1]);
        return 1;
    }
    int result = PyRun_SimpleFileEx(script, argv[1], 1);
    Py_Finalize();
    return result == 0 ? 0 : 1;
}
