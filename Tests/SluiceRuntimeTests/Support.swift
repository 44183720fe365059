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

/// Compiles and runs `code` over `inputs`.
func runTransformation(
    _ code: String, _ inputs: [String], language: Language, limits: Limits = .defaults, credentials: [String: String] = [:],
    runtime: Runtime = sharedRuntime, fileName: String? = nil
) throws -> BatchResult {
    let name = fileName ?? "transform.\(language.fileExtension)"
    let compiled = try runtime.compile(TransformationSource(name: "test", language: language, fileName: name, code: code))
    return runtime.run(compiled, batch: Batch(items: items(inputs), credentials: credentials), limits: limits)
}

/// The compile error message for `code`, or nil when it compiles.
func compileMessage(_ code: String, language: Language, runtime: Runtime, fileName: String? = nil) -> String? {
    do {
        let name = fileName ?? "transform.\(language.fileExtension)"
        _ = try runtime.compile(TransformationSource(name: "test", language: language, fileName: name, code: code))
        return nil
    } catch {
        return error.message
    }
}

/// Rendered lines of a run and how long it took, in milliseconds.
func timedLines(_ code: String, _ inputs: [String], language: Language, limits: Limits, runtime: Runtime = sharedRuntime)
    throws -> (lines: [String], milliseconds: Double)
{
    let compiled = try runtime.compile(TransformationSource(name: "test", language: language, fileName: "transform.\(language.fileExtension)", code: code))
    // Only the run is timed, not the compile.
    let start = ContinuousClock.now
    let result = runtime.run(compiled, batch: Batch(items: items(inputs)), limits: limits).results.map { render($0) }
    let elapsed = ContinuousClock.now - start
    return (result, Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
}

/// Runs `run` and, while it takes `budget` ms or more, again (three attempts in all), returning the
/// last result. On a loaded two-core machine (CI runs suites in parallel) one run can lose the CPU
/// for a while; a real overshoot of a limit is systematic and fails every attempt.
func retryingIfSlowerThan(
    _ budget: Double, _ run: () throws -> (lines: [String], milliseconds: Double)
) rethrows -> (lines: [String], milliseconds: Double) {
    var attempt = try run()
    for _ in 0..<2 where attempt.milliseconds >= budget { attempt = try run() }
    return attempt
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
