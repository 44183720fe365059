// CJavaScriptCore: JavaScriptCore's C API (Debian libjavascriptcoregtk-4.1-dev) plus the
// exported symbols its public headers leave out. Imported only by SluiceJavaScript.
#ifndef SLUICE_CJAVASCRIPTCORE_SHIM_H
#define SLUICE_CJAVASCRIPTCORE_SHIM_H

#include <JavaScriptCore/JavaScript.h>
#include <JavaScriptCore/JSTypedArray.h>
#include <jsc/jsc.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Called on the JavaScript thread when the execution time limit expires. Return true to
/// terminate the running script; return false to let it continue (call
/// JSContextGroupSetExecutionTimeLimit again from the callback to be called back later).
typedef bool (*JSShouldTerminateCallback)(JSContextRef ctx, void *context);

/// Exported by libjavascriptcoregtk (JSContextRefPrivate.h), not in the public headers.
/// The limit is in seconds of thread CPU time per VM entry.
JS_EXPORT void JSContextGroupSetExecutionTimeLimit(JSContextGroupRef group, double limit,
                                                   JSShouldTerminateCallback callback,
                                                   void *context);
JS_EXPORT void JSContextGroupClearExecutionTimeLimit(JSContextGroupRef group);

/// JSBasePrivate.h: a full, synchronous garbage collection.
JS_EXPORT void JSSynchronousGarbageCollectForDebugging(JSContextRef ctx);

#ifdef __cplusplus
}
#endif

#endif
