import SluiceCore
import SluiceRuntime
import SluiceTestSupport

/// One runtime for the whole test run (an engine is a thread and a heap; tests share it).
let sharedRuntime = Runtime(libraries: NoLibraries())

/// Compiles and runs `code` over `inputs` on `runtime`'s engine for `language`, with its libraries.
func runTransformation(
    _ code: String, _ inputs: [String], language: Language, limits: Limits = .defaults, credentials: [String: String] = [:],
    runtime: Runtime = sharedRuntime, fileName: String? = nil
) throws -> BatchResult {
    try runTransformation(code, inputs, on: runtime.engine(for: language), libraries: runtime.libraries, limits: limits,
                          credentials: credentials, fileName: fileName)
}

/// The compile error message for `code`, or nil when it compiles.
func compileMessage(_ code: String, language: Language, runtime: Runtime, fileName: String? = nil) -> String? {
    do {
        return compileMessage(code, on: try runtime.engine(for: language), libraries: runtime.libraries, fileName: fileName)
    } catch {
        return error.message
    }
}

/// Rendered lines of a run and how long it took, in milliseconds.
func timedLines(_ code: String, _ inputs: [String], language: Language, limits: Limits, runtime: Runtime = sharedRuntime)
    throws -> (lines: [String], milliseconds: Double)
{
    try timedLines(code, inputs, on: runtime.engine(for: language), libraries: runtime.libraries, limits: limits)
}

func runJavaScript(
    _ code: String, _ inputs: [String], limits: Limits = .defaults, credentials: [String: String] = [:],
    runtime: Runtime = sharedRuntime, fileName: String = "transform.js"
) throws -> BatchResult {
    try runTransformation(code, inputs, language: .javascript, limits: limits, credentials: credentials, runtime: runtime, fileName: fileName)
}

/// The rendered lines of a JavaScript run.
func lines(_ code: String, _ inputs: [String], limits: Limits = .defaults, runtime: Runtime = sharedRuntime) throws -> [String] {
    try runJavaScript(code, inputs, limits: limits, runtime: runtime).results.map { render($0) }
}

func compileError(_ code: String, runtime: Runtime = sharedRuntime, fileName: String = "transform.js") -> String? {
    compileMessage(code, language: .javascript, runtime: runtime, fileName: fileName)
}

func runPython(
    _ code: String, _ inputs: [String], limits: Limits = .defaults, credentials: [String: String] = [:],
    runtime: Runtime = sharedRuntime, fileName: String = "transform.py"
) throws -> BatchResult {
    try runTransformation(code, inputs, language: .python, limits: limits, credentials: credentials, runtime: runtime, fileName: fileName)
}

/// The rendered lines of a Python run.
func pythonLines(_ code: String, _ inputs: [String], limits: Limits = .defaults, runtime: Runtime = sharedRuntime) throws -> [String] {
    try runPython(code, inputs, limits: limits, runtime: runtime).results.map { render($0) }
}

func pythonCompileError(_ code: String, runtime: Runtime = sharedRuntime, fileName: String = "transform.py") -> String? {
    compileMessage(code, language: .python, runtime: runtime, fileName: fileName)
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
