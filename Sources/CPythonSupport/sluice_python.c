// See include/sluice_python.h.
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sluice_python.h"

// MARK: - Memory budget

static PyMemAllocatorEx raw_original;
static PyObjectArenaAllocator arena_original;
static _Atomic int64_t allocated_bytes;
static _Atomic int64_t budget_limit;  // absolute value of allocated_bytes not to exceed; 0: none
static _Atomic int budget_exceeded;

// Only the interpreter thread allocates through these hooks (the engine never releases the GIL
// to another Python thread), so the counter is updated with relaxed loads and stores rather than
// locked read-modify-writes: no torn values, a third of the cost.
static inline void account(int64_t delta) {
    atomic_store_explicit(&allocated_bytes, atomic_load_explicit(&allocated_bytes, memory_order_relaxed) + delta, memory_order_relaxed);
}

static int refuse(size_t size) {
    int64_t limit = atomic_load_explicit(&budget_limit, memory_order_relaxed);
    if (limit > 0 && atomic_load_explicit(&allocated_bytes, memory_order_relaxed) + (int64_t)size > limit) {
        atomic_store(&budget_exceeded, 1);
        return 1;
    }
    return 0;
}

static void *raw_malloc(void *context, size_t size) {
    if (refuse(size)) return NULL;
    void *pointer = raw_original.malloc(raw_original.ctx, size);
    if (pointer) account((int64_t)malloc_usable_size(pointer));
    return pointer;
}

static void *raw_calloc(void *context, size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return NULL;
    if (refuse(count * size)) return NULL;
    void *pointer = raw_original.calloc(raw_original.ctx, count, size);
    if (pointer) account((int64_t)malloc_usable_size(pointer));
    return pointer;
}

static void *raw_realloc(void *context, void *pointer, size_t size) {
    size_t before = pointer ? malloc_usable_size(pointer) : 0;
    if (size > before && refuse(size - before)) return NULL;
    void *result = raw_original.realloc(raw_original.ctx, pointer, size);
    if (result) {
        account((int64_t)malloc_usable_size(result) - (int64_t)before);
    } else if (size == 0) {
        account(-(int64_t)before);
    }
    return result;
}

static void raw_free(void *context, void *pointer) {
    if (pointer) account(-(int64_t)malloc_usable_size(pointer));
    raw_original.free(raw_original.ctx, pointer);
}

static void *arena_alloc(void *context, size_t size) {
    if (refuse(size)) return NULL;
    void *pointer = arena_original.alloc(arena_original.ctx, size);
    if (pointer) account((int64_t)size);
    return pointer;
}

static void arena_free(void *context, void *pointer, size_t size) {
    if (pointer) account(-(int64_t)size);
    arena_original.free(arena_original.ctx, pointer, size);
}

void sluice_python_install_allocator_hooks(void) {
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &raw_original);
    PyMemAllocatorEx raw = {NULL, raw_malloc, raw_calloc, raw_realloc, raw_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &raw);
    PyObject_GetArenaAllocator(&arena_original);
    PyObjectArenaAllocator arena = {NULL, arena_alloc, arena_free};
    PyObject_SetArenaAllocator(&arena);
}

void sluice_memory_begin(int64_t budget_bytes) {
    atomic_store(&budget_exceeded, 0);
    atomic_store(&budget_limit, atomic_load(&allocated_bytes) + budget_bytes);
}

void sluice_memory_end(void) { atomic_store(&budget_limit, 0); }

int sluice_memory_exceeded(void) { return atomic_load(&budget_exceeded); }

int64_t sluice_memory_allocated(void) { return atomic_load(&allocated_bytes); }

// MARK: - Deadline

static _Atomic uint64_t deadline;
// CALL while a call runs: user code, or the driver's work on what user code returned. Only then
// may the deadline signal (and, past the deadline, the stop tracer) raise TimeLimitExceeded. Kept
// here rather than in a Python attribute so that `enter` and `leave` switch it in the same C
// call that arms and disarms the deadline: no driver bytecode ever runs in between.
// RELEASING while the driver releases what a batch made and runs its finalisers: then only
// frames that are not the driver's are stopped, so the release itself always completes.
enum { IDLE = 0, CALL = 1, RELEASING = 2 };
static _Atomic int in_call;
// [0]: the running call's sequence number (0: none), a new one for every call; [1]: the input it
// is for (-1: none, or a whole batch), left set after the call ends. Read by the engine monitor
// from another thread, which tells calls apart by these two words.
static volatile int32_t call_control[2] = {0, -1};
static int32_t last_sequence;
// The driver's TimeLimitExceeded class and its file name (frames of the driver itself are never
// stopped by the tracer: they must finish what they do for the call that was stopped).
static PyObject *time_limit_exception;
static PyObject *driver_file_name;
static int stop_tracer_installed;

static uint64_t now_nanoseconds(void) {
    struct timespec time;
    clock_gettime(CLOCK_MONOTONIC, &time);
    return (uint64_t)time.tv_sec * 1000000000u + (uint64_t)time.tv_nsec;
}

void sluice_deadline_set(uint64_t deadline_nanoseconds) {
    atomic_store(&deadline, deadline_nanoseconds);
    if (deadline_nanoseconds) {
        last_sequence = last_sequence == INT32_MAX ? 1 : last_sequence + 1;
        call_control[0] = last_sequence;
    } else {
        call_control[0] = 0;
    }
}

int sluice_deadline_passed(void) {
    uint64_t value = atomic_load(&deadline);
    return value != 0 && now_nanoseconds() >= value;
}

volatile int32_t *sluice_call_sequence(void) { return call_control; }

void sluice_call_index_set(int32_t index) { call_control[1] = index; }

int sluice_deadline_signal(void) { return SIGRTMIN + 4; }

void sluice_unblock_deadline_signal(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sluice_deadline_signal());
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

static int call_is_due(void) { return atomic_load(&in_call) && sluice_deadline_passed(); }

// Installed once a call is past its deadline: every line, call and return of code that is not
// the driver's raises TimeLimitExceeded again, so that code catching the first one (`except
// BaseException`, a `finally` that loops, a finaliser) cannot carry on. Costs nothing before the
// deadline: it is not installed then.
static int is_driver_frame(PyFrameObject *frame) {
    PyCodeObject *code = PyFrame_GetCode(frame);
    int driver = code->co_filename == driver_file_name;
    Py_DECREF(code);
    return driver;
}

static int stop_tracer(PyObject *unused, PyFrameObject *frame, int what, PyObject *argument) {
    if (!call_is_due() || !time_limit_exception || is_driver_frame(frame)) return 0;
    PyErr_SetNone(time_limit_exception);
    return -1;
}

static void stop_tracer_remove(void) {
    if (stop_tracer_installed) {
        stop_tracer_installed = 0;
        PyEval_SetTrace(NULL, NULL);
    }
}

// on_deadline(signal, frame): the Python-level handler of the deadline signal. Raises
// TimeLimitExceeded when a call is running and past its deadline (and installs the stop tracer);
// does nothing otherwise (a signal the ticker sent just before the call ended).
static PyObject *on_deadline(PyObject *self, PyObject *const *arguments, Py_ssize_t count) {
    if (!call_is_due() || !time_limit_exception) Py_RETURN_NONE;
    if (!stop_tracer_installed) {
        stop_tracer_installed = 1;
        PyEval_SetTrace(stop_tracer, NULL);
    }
    if (atomic_load(&in_call) == RELEASING && count == 2 && PyFrame_Check(arguments[1])
        && is_driver_frame((PyFrameObject *)arguments[1])) {
        Py_RETURN_NONE;
    }
    PyErr_SetNone(time_limit_exception);
    return NULL;
}

// configure(time_limit_exception, driver_file_name): what the deadline machinery raises and
// which frames it never stops.
static PyObject *configure(PyObject *self, PyObject *const *arguments, Py_ssize_t count) {
    if (count != 2) {
        PyErr_SetString(PyExc_TypeError, "configure(exception, driver_file_name)");
        return NULL;
    }
    Py_XSETREF(time_limit_exception, Py_NewRef(arguments[0]));
    Py_XSETREF(driver_file_name, Py_NewRef(arguments[1]));
    Py_RETURN_NONE;
}

static PyObject *memory_exceeded(PyObject *self, PyObject *unused) { return PyBool_FromLong(sluice_memory_exceeded()); }

// Arms a call: its deadline, a new sequence number, the input it is for and, when budget > 0,
// its memory budget. Arguments: nanoseconds, budget bytes and, for CALL, the input index.
static PyObject *start(PyObject *const *arguments, Py_ssize_t count, int mode) {
    Py_ssize_t expected = mode == CALL ? 3 : 2;
    if (count != expected) {
        PyErr_SetString(PyExc_TypeError, mode == CALL ? "enter(nanoseconds, budget, index)" : "enter_release(nanoseconds, budget)");
        return NULL;
    }
    long long limit = PyLong_AsLongLong(arguments[0]);
    long long budget = PyLong_AsLongLong(arguments[1]);
    long index = mode == CALL ? PyLong_AsLong(arguments[2]) : -1;
    if (PyErr_Occurred()) return NULL;
    if (budget > 0) sluice_memory_begin(budget);
    call_control[1] = (int32_t)index;
    sluice_deadline_set(now_nanoseconds() + (uint64_t)limit);
    atomic_store(&in_call, mode);
    Py_RETURN_NONE;
}

// enter(nanoseconds, budget_bytes, index): starts a call for input `index` (-1: a whole batch or
// the module's evaluation), in one call from the driver's hot path. leave() ends all of it.
static PyObject *enter(PyObject *self, PyObject *const *arguments, Py_ssize_t count) {
    return start(arguments, count, CALL);
}

// enter_release(nanoseconds, budget_bytes): like enter(…, -1), for the driver's release of a
// batch's objects: finalisers run under the limits, the driver's own frames are never stopped.
static PyObject *enter_release(PyObject *self, PyObject *const *arguments, Py_ssize_t count) {
    return start(arguments, count, RELEASING);
}

static PyObject *leave(PyObject *self, PyObject *unused) {
    atomic_store(&in_call, IDLE);
    sluice_deadline_set(0);
    sluice_memory_end();
    stop_tracer_remove();
    Py_RETURN_NONE;
}

// MARK: - Shared state

// A 64-bit fingerprint of what user code can change of an object without changing its
// identity: a dict's version tag (every insertion, deletion or replacement changes it), a
// function's code, defaults, namespace and names, a class's namespace version, bases and
// metaclass, a list's or set's items, and for anything else the objects it references
// (tp_traverse: an instance's class, namespace and slots, a cell's contents, a partial's
// arguments). The driver fingerprints the objects the standard-library modules hold once, and
// after every batch compares (state_changed) to restore the ones that differ.
static uint64_t mix(uint64_t hash, uint64_t value) {
    hash ^= value;
    return hash * 0x100000001b3ull;
}

static int visit_referent(PyObject *object, void *argument) {
    uint64_t *hash = argument;
    *hash = mix(*hash, (uint64_t)(uintptr_t)object);
    return 0;
}

static uint64_t dict_version(PyObject *dictionary) { return ((PyDictObject *)dictionary)->ma_version_tag; }

static uint64_t fingerprint(PyObject *object) {
    PyTypeObject *type = Py_TYPE(object);
    uint64_t hash = mix(0xcbf29ce484222325ull, (uint64_t)(uintptr_t)type);
    if (PyDict_Check(object)) return mix(hash, dict_version(object));
    if (PyFunction_Check(object)) {
        PyFunctionObject *function = (PyFunctionObject *)object;
        PyObject *fields[] = {function->func_code, function->func_defaults, function->func_kwdefaults, function->func_dict,
                              function->func_annotations, function->func_name, function->func_qualname, function->func_module,
                              function->func_doc, function->func_closure};
        for (size_t index = 0; index < sizeof fields / sizeof fields[0]; index++) hash = mix(hash, (uint64_t)(uintptr_t)fields[index]);
        return hash;
    }
    if (PyType_Check(object)) {
        PyTypeObject *class = (PyTypeObject *)object;
        hash = mix(hash, (uint64_t)(uintptr_t)class->tp_dict);
        if (class->tp_dict) hash = mix(hash, dict_version(class->tp_dict));
        hash = mix(hash, (uint64_t)(uintptr_t)class->tp_bases);
        return mix(hash, (uint64_t)(uintptr_t)class->tp_mro);
    }
    if (PyList_Check(object)) {
        Py_ssize_t count = PyList_GET_SIZE(object);
        hash = mix(hash, (uint64_t)count);
        for (Py_ssize_t index = 0; index < count; index++) hash = mix(hash, (uint64_t)(uintptr_t)PyList_GET_ITEM(object, index));
        return hash;
    }
    if (PyAnySet_Check(object)) {
        uint64_t sum = 0;
        Py_ssize_t position = 0;
        PyObject *key;
        Py_hash_t key_hash;
        while (_PySet_NextEntry(object, &position, &key, &key_hash)) sum += (uint64_t)(uintptr_t)key * 0x9e3779b97f4a7c15ull;
        return mix(mix(hash, (uint64_t)PySet_GET_SIZE(object)), sum);
    }
    if (PyByteArray_Check(object)) {
        const char *bytes = PyByteArray_AS_STRING(object);
        Py_ssize_t count = PyByteArray_GET_SIZE(object);
        for (Py_ssize_t index = 0; index < count; index++) hash = mix(hash, (unsigned char)bytes[index]);
        return mix(hash, (uint64_t)count);
    }
    if (type->tp_traverse) type->tp_traverse(object, visit_referent, &hash);
    return hash;
}

// function_namespaces(function): (its __dict__, its __annotations__), each None while the
// function has none — reading the attributes would make them.
static PyObject *function_namespaces(PyObject *self, PyObject *function) {
    if (!PyFunction_Check(function)) {
        PyErr_SetString(PyExc_TypeError, "function_namespaces(function)");
        return NULL;
    }
    PyFunctionObject *object = (PyFunctionObject *)function;
    return PyTuple_Pack(2, object->func_dict ? object->func_dict : Py_None, object->func_annotations ? object->func_annotations : Py_None);
}

// state_fingerprints(objects): the fingerprints of a list of objects, 8 bytes each.
static PyObject *state_fingerprints(PyObject *self, PyObject *objects) {
    if (!PyList_Check(objects)) {
        PyErr_SetString(PyExc_TypeError, "state_fingerprints(list)");
        return NULL;
    }
    Py_ssize_t count = PyList_GET_SIZE(objects);
    PyObject *result = PyByteArray_FromStringAndSize(NULL, count * (Py_ssize_t)sizeof(uint64_t));
    if (!result) return NULL;
    uint64_t *values = (uint64_t *)PyByteArray_AS_STRING(result);
    for (Py_ssize_t index = 0; index < count; index++) values[index] = fingerprint(PyList_GET_ITEM(objects, index));
    return result;
}

// The arguments shared by state_changed and state_refresh: the objects, their fingerprints (a
// bytearray of 8 bytes each) and the positions to look at (bytes of native int32s).
static int state_arguments(PyObject *const *arguments, Py_ssize_t count, uint64_t **fingerprints, const int32_t **positions,
                           Py_ssize_t *position_count) {
    if (count != 3 || !PyList_Check(arguments[0]) || !PyByteArray_Check(arguments[1]) || !PyBytes_Check(arguments[2])
        || PyByteArray_GET_SIZE(arguments[1]) != PyList_GET_SIZE(arguments[0]) * (Py_ssize_t)sizeof(uint64_t)
        || PyBytes_GET_SIZE(arguments[2]) % (Py_ssize_t)sizeof(int32_t)) {
        PyErr_SetString(PyExc_TypeError, "(objects, their fingerprints, positions as int32 bytes)");
        return -1;
    }
    *fingerprints = (uint64_t *)PyByteArray_AS_STRING(arguments[1]);
    *positions = (const int32_t *)PyBytes_AS_STRING(arguments[2]);
    *position_count = PyBytes_GET_SIZE(arguments[2]) / (Py_ssize_t)sizeof(int32_t);
    Py_ssize_t size = PyList_GET_SIZE(arguments[0]);
    for (Py_ssize_t index = 0; index < *position_count; index++) {
        if ((*positions)[index] < 0 || (*positions)[index] >= size) {
            PyErr_SetString(PyExc_IndexError, "a position past the objects");
            return -1;
        }
    }
    return 0;
}

// state_changed(objects, fingerprints, positions): the positions whose fingerprint differs.
static PyObject *state_changed(PyObject *self, PyObject *const *arguments, Py_ssize_t count) {
    uint64_t *saved;
    const int32_t *positions;
    Py_ssize_t position_count;
    if (state_arguments(arguments, count, &saved, &positions, &position_count) < 0) return NULL;
    PyObject *objects = arguments[0];
    PyObject *changed = PyList_New(0);
    if (!changed) return NULL;
    for (Py_ssize_t index = 0; index < position_count; index++) {
        int32_t position = positions[index];
        if (fingerprint(PyList_GET_ITEM(objects, position)) == saved[position]) continue;
        PyObject *number = PyLong_FromLong(position);
        if (!number || PyList_Append(changed, number) < 0) {
            Py_XDECREF(number);
            Py_DECREF(changed);
            return NULL;
        }
        Py_DECREF(number);
    }
    return changed;
}

// state_refresh(objects, fingerprints, positions): records the current fingerprints there.
static PyObject *state_refresh(PyObject *self, PyObject *const *arguments, Py_ssize_t count) {
    uint64_t *saved;
    const int32_t *positions;
    Py_ssize_t position_count;
    if (state_arguments(arguments, count, &saved, &positions, &position_count) < 0) return NULL;
    for (Py_ssize_t index = 0; index < position_count; index++) {
        saved[positions[index]] = fingerprint(PyList_GET_ITEM(arguments[0], positions[index]));
    }
    Py_RETURN_NONE;
}

// MARK: - progress

static sluice_progress_callback progress_callback;

void sluice_set_progress_callback(sluice_progress_callback callback) { progress_callback = callback; }

// progress(records): hands the records finished so far to the host.
static PyObject *host_progress(PyObject *self, PyObject *records) {
    Py_ssize_t length = 0;
    const char *text = PyUnicode_AsUTF8AndSize(records, &length);
    if (!text) return NULL;
    if (progress_callback) progress_callback(text, (long)length);
    Py_RETURN_NONE;
}

// MARK: - fetch

static sluice_fetch_callback fetch_callback;

void sluice_set_fetch_callback(sluice_fetch_callback callback) { fetch_callback = callback; }

uint64_t sluice_deadline_remaining(void) {
    uint64_t value = atomic_load(&deadline);
    if (value == 0) return UINT64_MAX;
    uint64_t now = now_nanoseconds();
    return now >= value ? 0 : value - now;
}

// fetch(invocation, url, method, headers, body_or_none) -> str (the host's JSON answer).
static PyObject *host_fetch(PyObject *self, PyObject *const *args, Py_ssize_t count) {
    if (count != 5) {
        PyErr_SetString(PyExc_TypeError, "fetch(invocation, url, method, headers, body)");
        return NULL;
    }
    long invocation = PyLong_AsLong(args[0]);
    if (invocation == -1 && PyErr_Occurred()) return NULL;
    const char *url = PyUnicode_AsUTF8(args[1]);
    const char *method = url ? PyUnicode_AsUTF8(args[2]) : NULL;
    const char *headers = method ? PyUnicode_AsUTF8(args[3]) : NULL;
    if (!headers) return NULL;
    const char *body = NULL;
    Py_ssize_t body_length = -1;
    if (args[4] != Py_None) {
        body = PyUnicode_AsUTF8AndSize(args[4], &body_length);
        if (!body) return NULL;
    }
    if (!fetch_callback) return PyUnicode_FromString("{\"error\":\"fetch is not available\",\"kind\":\"unavailable\"}");
    char *answer = fetch_callback(invocation, url, method, headers, body, (long)body_length);
    if (!answer) return PyUnicode_FromString("{\"error\":\"fetch failed\",\"kind\":\"network\"}");
    PyObject *result = PyUnicode_FromString(answer);
    free(answer);
    return result;
}

static PyMethodDef host_methods[] = {
    {"fetch", (PyCFunction)(void (*)(void))host_fetch, METH_FASTCALL, "fetch(invocation, url, method, headers, body): the host's JSON answer."},
    {"enter", (PyCFunction)(void (*)(void))enter, METH_FASTCALL, "Starts a call: enter(nanoseconds, budget_bytes, index)."},
    {"enter_release", (PyCFunction)(void (*)(void))enter_release, METH_FASTCALL, "Starts releasing a batch: enter_release(nanoseconds, budget_bytes)."},
    {"leave", leave, METH_NOARGS, "Ends a call's time limit and memory budget."},
    {"on_deadline", (PyCFunction)(void (*)(void))on_deadline, METH_FASTCALL, "The deadline signal's handler: on_deadline(signal, frame)."},
    {"configure", (PyCFunction)(void (*)(void))configure, METH_FASTCALL, "configure(time_limit_exception, driver_file_name)."},
    {"progress", host_progress, METH_O, "Hands the records finished so far to the host: progress(text)."},
    {"memory_exceeded", memory_exceeded, METH_NOARGS, "True when an allocation was refused since the call began."},
    {"state_fingerprints", state_fingerprints, METH_O, "state_fingerprints(objects): 8 bytes per object."},
    {"function_namespaces", function_namespaces, METH_O, "function_namespaces(function): (__dict__ or None, __annotations__ or None)."},
    {"state_changed", (PyCFunction)(void (*)(void))state_changed, METH_FASTCALL, "state_changed(objects, fingerprints, positions): those that differ."},
    {"state_refresh", (PyCFunction)(void (*)(void))state_refresh, METH_FASTCALL, "state_refresh(objects, fingerprints, positions)."},
    {NULL, NULL, 0, NULL},
};

SluicePyObject *sluice_host_functions(void) {
    PyObject *functions = PyDict_New();
    if (!functions) return NULL;
    for (PyMethodDef *method = host_methods; method->ml_name; method++) {
        PyObject *function = PyCFunction_New(method, NULL);
        if (!function || PyDict_SetItemString(functions, method->ml_name, function) < 0) {
            Py_XDECREF(function);
            Py_DECREF(functions);
            return NULL;
        }
        Py_DECREF(function);
    }
    return functions;
}

// MARK: - Interpreter

const char *sluice_python_initialize(void) {
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    config.site_import = 0;
    config.user_site_directory = 0;
    config.use_environment = 0;
    config.install_signal_handlers = 0;
    config.write_bytecode = 0;
    config.parse_argv = 0;
    config.buffered_stdio = 0;
    // A fixed hash seed: set and dict-of-str orders are the same in every run (snapshot tests,
    // replays), as they are in JavaScript.
    config.use_hash_seed = 1;
    config.hash_seed = 0;
    PyStatus status = PyConfig_SetString(&config, &config.program_name, L"sluice");
    if (!PyStatus_Exception(status)) status = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) return status.err_msg ? status.err_msg : "Python failed to start";
    return NULL;
}

SluicePyObject *sluice_run_file(const char *code, const char *file_name, SluicePyObject *globals) {
    // As PyRun_String does: code run in these globals finds the builtins there.
    if (!PyDict_GetItemString(globals, "__builtins__") && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0) {
        return NULL;
    }
    PyObject *compiled = Py_CompileString(code, file_name, Py_file_input);
    if (!compiled) return NULL;
    PyObject *result = PyEval_EvalCode(compiled, globals, globals);
    Py_DECREF(compiled);
    return result;
}

void sluice_incref(SluicePyObject *object) { Py_XINCREF(object); }
void sluice_decref(SluicePyObject *object) { Py_XDECREF(object); }
SluicePyObject *sluice_none(void) { Py_RETURN_NONE; }

SluicePyObject *sluice_call(SluicePyObject *callable, SluicePyObject *const *arguments, size_t count) {
    return PyObject_Vectorcall(callable, arguments, count, NULL);
}

SluicePyObject *sluice_string(const char *utf8, ptrdiff_t length) { return PyUnicode_DecodeUTF8(utf8, length, "strict"); }
SluicePyObject *sluice_integer(int64_t value) { return PyLong_FromLongLong(value); }
int sluice_is_true(SluicePyObject *object) {
    return PyObject_IsTrue((PyObject *)object) == 1;
}

SluicePyObject *sluice_boolean(int value) { return PyBool_FromLong(value); }

const char *sluice_string_utf8(SluicePyObject *string, ptrdiff_t *length, SluicePyObject **owner) {
    *owner = NULL;
    Py_ssize_t size = 0;
    const char *text = PyUnicode_AsUTF8AndSize(string, &size);
    if (!text && PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        // Lone surrogates (valid in JSON text, "\ud800", and kept by json.loads) cannot be
        // UTF-8. They only ever sit inside JSON string literals, where backslashreplace writes
        // exactly their JSON escape.
        PyErr_Clear();
        PyObject *bytes = PyUnicode_AsEncodedString(string, "utf-8", "backslashreplace");
        if (!bytes) return NULL;
        *owner = bytes;
        *length = PyBytes_GET_SIZE(bytes);
        return PyBytes_AS_STRING(bytes);
    }
    *length = size;
    return text;
}

SluicePyObject *sluice_dictionary(void) { return PyDict_New(); }

int sluice_dictionary_set(SluicePyObject *dictionary, const char *key, SluicePyObject *value) {
    return PyDict_SetItemString(dictionary, key, value);
}

SluicePyObject *sluice_dictionary_get(SluicePyObject *dictionary, const char *key) {
    PyObject *value = PyDict_GetItemString(dictionary, key);
    Py_XINCREF(value);
    return value;
}

SluicePyObject *sluice_attribute(SluicePyObject *object, const char *name) { return PyObject_GetAttrString(object, name); }

char *sluice_take_exception_text(void) {
    if (!PyErr_Occurred()) return NULL;
    PyObject *type, *value, *traceback;
    PyErr_Fetch(&type, &value, &traceback);
    PyErr_NormalizeException(&type, &value, &traceback);
    const char *name = type ? ((PyTypeObject *)type)->tp_name : "Exception";
    PyObject *text = value ? PyObject_Str(value) : NULL;
    const char *message = text ? PyUnicode_AsUTF8(text) : NULL;
    if (!message) PyErr_Clear();
    size_t size = strlen(name) + (message ? strlen(message) : 0) + 3;
    char *result = malloc(size);
    if (result) snprintf(result, size, message && *message ? "%s: %s" : "%s", name, message ? message : "");
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(traceback);
    return result;
}
