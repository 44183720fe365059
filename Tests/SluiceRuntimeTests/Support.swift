import SluiceCore
import SluiceRuntime

/// One runtime for the whole test run (an engine is a thread and a heap; tests share it).
let sharedRuntime = Runtime(libraries: NoLibraries())

/// A result rendered as one short line, for exact comparisons:
/// `0 output {"a":1}`, `1 dropped`, `2 exception: TypeError: x` (first line of the message only),
/// `- output {…}` for a batch output that matches no input.
func render(_ result: EventResult, fullMessages: Bool = false) -> String {
    let index = result.inputIndex.map(String.init) ?? "-"
    switch result.outcome {
    case .output(let json):
        return "\(index) output \(String(decoding: json, as: UTF8.self))"
    case .dropped:
        return "\(index) dropped"
    case .failed(let failure):
        let message = fullMessages ? failure.message : String(failure.message.split(separator: "\n", omittingEmptySubsequences: false)[0])
        return "\(index) \(failure.kind.name): \(message)"
    }
}

func items(_ texts: [String]) -> [JSONText] {
    texts.map { Array($0.utf8) }
}

/// Compiles and runs `code` (JavaScript) over `inputs`.
func runJavaScript(
    _ code: String, _ inputs: [String], limits: Limits = .defaults, credentials: [String: String] = [:],
    runtime: Runtime = sharedRuntime, fileName: String = "transform.js"
) throws -> BatchResult {
    let compiled = try runtime.compile(TransformationSource(name: "test", language: .javascript, fileName: fileName, code: code))
    return runtime.run(compiled, batch: Batch(items: items(inputs), credentials: credentials), limits: limits)
}

/// The rendered lines of a run.
func lines(_ code: String, _ inputs: [String], limits: Limits = .defaults, runtime: Runtime = sharedRuntime) throws -> [String] {
    try runJavaScript(code, inputs, limits: limits, runtime: runtime).results.map { render($0) }
}

/// The compile error message for `code`, or nil when it compiles.
func compileError(_ code: String, runtime: Runtime = sharedRuntime, fileName: String = "transform.js") -> String? {
    do {
        _ = try runtime.compile(TransformationSource(name: "test", language: .javascript, fileName: fileName, code: code))
        return nil
    } catch {
        return error.message
    }
}

/// Compiles and runs `code` (Python) over `inputs`.
func runPython(
    _ code: String, _ inputs: [String], limits: Limits = .defaults, credentials: [String: String] = [:],
    runtime: Runtime = sharedRuntime, fileName: String = "transform.py"
) throws -> BatchResult {
    let compiled = try runtime.compile(TransformationSource(name: "test", language: .python, fileName: fileName, code: code))
    return runtime.run(compiled, batch: Batch(items: items(inputs), credentials: credentials), limits: limits)
}

/// The rendered lines of a Python run.
func pythonLines(_ code: String, _ inputs: [String], limits: Limits = .defaults, runtime: Runtime = sharedRuntime) throws -> [String] {
    try runPython(code, inputs, limits: limits, runtime: runtime).results.map { render($0) }
}

/// The compile error message for Python `code`, or nil when it compiles.
func pythonCompileError(_ code: String, runtime: Runtime = sharedRuntime, fileName: String = "transform.py") -> String? {
    do {
        _ = try runtime.compile(TransformationSource(name: "test", language: .python, fileName: fileName, code: code))
        return nil
    } catch {
        return error.message
    }
}
