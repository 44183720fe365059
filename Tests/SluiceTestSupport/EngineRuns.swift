import SluiceCore

/// A result rendered as one short line, for exact comparisons:
/// `0 output {"a":1}`, `1 dropped`, `2 exception: TypeError: x` (first line of the message only),
/// `- output {…}` for a batch output that matches no input.
public func render(_ result: EventResult, fullMessages: Bool = false) -> String {
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

/// Texts as batch items.
public func items(_ texts: [String]) -> [JSONText] {
    texts.map { Array($0.utf8) }
}

/// Compiles `code` on `engine` (as `transform.js` / `transform.py` unless `fileName` says
/// otherwise) and runs `inputs` through it as one batch.
public func runTransformation(
    _ code: String, _ inputs: [String], on engine: any TransformationEngine, libraries: any LibraryProvider = NoLibraries(),
    limits: Limits = .defaults, credentials: [String: String] = [:], fileName: String? = nil
) throws -> BatchResult {
    let name = fileName ?? "transform.\(engine.language.fileExtension)"
    let compiled = try engine.compile(TransformationSource(name: "test", language: engine.language, fileName: name, code: code), libraries: libraries)
    return engine.run(compiled, batch: Batch(items: items(inputs), credentials: credentials), limits: limits)
}

/// The compile error message for `code` on `engine`, or nil when it compiles.
public func compileMessage(_ code: String, on engine: any TransformationEngine, libraries: any LibraryProvider = NoLibraries(),
                           fileName: String? = nil) -> String? {
    do {
        let name = fileName ?? "transform.\(engine.language.fileExtension)"
        _ = try engine.compile(TransformationSource(name: "test", language: engine.language, fileName: name, code: code), libraries: libraries)
        return nil
    } catch {
        return error.message
    }
}

/// Rendered lines of a run on `engine` and how long the run took (not the compile), in
/// milliseconds.
public func timedLines(_ code: String, _ inputs: [String], on engine: any TransformationEngine, libraries: any LibraryProvider = NoLibraries(),
                       limits: Limits) throws -> (lines: [String], milliseconds: Double) {
    let source = TransformationSource(name: "test", language: engine.language, fileName: "transform.\(engine.language.fileExtension)", code: code)
    let compiled = try engine.compile(source, libraries: libraries)
    let start = ContinuousClock.now
    let result = engine.run(compiled, batch: Batch(items: items(inputs)), limits: limits).results.map { render($0) }
    return (result, (ContinuousClock.now - start).millisecondsValue)
}

/// Runs `run` and, while it takes `budget` ms or more, again (five attempts in all), returning the
/// last result. On a loaded two-core machine (CI runs suites in parallel) one run can lose the CPU
/// for a while — three attempts in a row have been seen to, when several suites started engines at
/// once; a real overshoot of a limit is systematic and fails every attempt.
public func retryingIfSlowerThan(
    _ budget: Double, _ run: () throws -> (lines: [String], milliseconds: Double)
) rethrows -> (lines: [String], milliseconds: Double) {
    var attempt = try run()
    for _ in 0..<4 where attempt.milliseconds >= budget { attempt = try run() }
    return attempt
}
