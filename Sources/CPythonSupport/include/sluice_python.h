// Helpers for embedding CPython from Swift: wrappers for macros, the allocator hooks that
// enforce the memory budget, the deadline the time limit is checked against, and interpreter
// start-up in isolated mode. Used only by SluicePython.
#ifndef SLUICE_PYTHON_SUPPORT_H
#define SLUICE_PYTHON_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

typedef struct _object SluicePyObject;

/// Starts an isolated interpreter on the calling thread (which becomes Python's main thread):
/// no site, no user site, no environment variables, no signal handlers of Python's own.
/// Returns NULL on success or a static error message.
const char *sluice_python_initialize(void);

/// Installs the counting allocator hooks (raw domain and arenas). Call once, before
/// initialising the interpreter.
void sluice_python_install_allocator_hooks(void);

/// Starts a memory budget: allocations fail once the bytes allocated since this call exceed
/// `budget_bytes`. `sluice_memory_end` lifts it; `sluice_memory_exceeded` tells whether an
/// allocation was refused since `begin`.
void sluice_memory_begin(int64_t budget_bytes);
void sluice_memory_end(void);
int sluice_memory_exceeded(void);
int64_t sluice_memory_allocated(void);

/// The deadline of the running call, in CLOCK_MONOTONIC nanoseconds (0: none), and the call's
/// control words for the engine monitor: [0] a sequence number identifying the running call, new
/// for every call (0 while none runs), [1] the input index of the current or last call (-1: a
/// whole batch).
void sluice_deadline_set(uint64_t deadline_nanoseconds);
int sluice_deadline_passed(void);
volatile int32_t *sluice_call_sequence(void);
void sluice_call_index_set(int32_t index);

/// The signal the ticker sends the interpreter thread past a deadline (a real-time signal:
/// SIGUSR1/2 may be used by JavaScriptCore's thread suspension).
int sluice_deadline_signal(void);

/// Unblocks that signal on the calling thread (threads inherit their creator's signal mask).
void sluice_unblock_deadline_signal(void);

/// A dict of the host functions the Python driver uses: enter(ns, budget, index), leave(),
/// on_deadline(signal, frame), configure(exception, file name), memory_exceeded(), fetch(...),
/// progress(text).
SluicePyObject *sluice_host_functions(void);

/// Performs a fetch for user code: invocation, url, method, headers (`name\x1fvalue\x1e…`), body (or
/// NULL) and its length; returns the answer as malloc'ed JSON text (the caller frees it).
typedef char *(*sluice_fetch_callback)(long invocation, const char *url, const char *method, const char *headers,
                                       const char *body, long body_length);
/// Sets the function the `fetch` host function calls.
void sluice_set_fetch_callback(sluice_fetch_callback callback);

/// Receives the records a batch finished so far (UTF-8 text and its length), from the driver's
/// `progress(text)` host function.
typedef void (*sluice_progress_callback)(const char *records, long length);
void sluice_set_progress_callback(sluice_progress_callback callback);
/// Nanoseconds the running call has left (UINT64_MAX when none is running).
uint64_t sluice_deadline_remaining(void);

/// Compiles `code` (exec mode) as the file `file_name` and runs it in `globals`; returns a new
/// reference or NULL with an exception set.
SluicePyObject *sluice_run_file(const char *code, const char *file_name, SluicePyObject *globals);

/// Reference counting and constants.
void sluice_incref(SluicePyObject *object);
void sluice_decref(SluicePyObject *object);
SluicePyObject *sluice_none(void);

/// Calls `callable(*arguments)`; returns a new reference or NULL with an exception set.
SluicePyObject *sluice_call(SluicePyObject *callable, SluicePyObject *const *arguments, size_t count);

/// Strings and numbers (new references).
SluicePyObject *sluice_string(const char *utf8, ptrdiff_t length);
SluicePyObject *sluice_integer(int64_t value);
SluicePyObject *sluice_boolean(int value);
/// 1 when `object` is true (Python truth), else 0.
int sluice_is_true(SluicePyObject *object);
/// The UTF-8 text of a str, or NULL. Borrowed from the str, or — when the str holds lone
/// surrogates, which UTF-8 cannot encode — from `*owner`, a new reference the caller releases
/// (those surrogates are written as `\uXXXX` escapes).
const char *sluice_string_utf8(SluicePyObject *string, ptrdiff_t *length, SluicePyObject **owner);

/// Dictionaries: a new dict; set (0 on success); get (new reference or NULL, no exception).
SluicePyObject *sluice_dictionary(void);
int sluice_dictionary_set(SluicePyObject *dictionary, const char *key, SluicePyObject *value);
SluicePyObject *sluice_dictionary_get(SluicePyObject *dictionary, const char *key);

/// Attribute access (new reference or NULL).
SluicePyObject *sluice_attribute(SluicePyObject *object, const char *name);

/// Fetches and clears the pending exception as "<Class>: <message>" (malloc'ed; free it), or
/// NULL when there is none.
char *sluice_take_exception_text(void);

#endif
