import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceTesting

extension EngineCase {
    /// The engines of this process, shared by the cases (program ids are content ids, so the
    /// executor's compile cache never mixes two cases' code).
    static let sharedExecutor = InProcessExecutor()
    /// The `limits/` cases' own JavaScript engine, so that other cases' batches do not disturb
    /// their memory measurements (Python has one interpreter for the process).
    static let limitsExecutor = InProcessExecutor(runtime: Runtime(libraries: NoLibraries()))

    var executor: InProcessExecutor { id.hasPrefix("limits/") ? Self.limitsExecutor : Self.sharedExecutor }

    /// When set, a case without its expectation writes one from its result (and still fails, so
    /// that the recording is read before it is committed), as `sluice test` does.
    static let recordsMissingExpectations = ProcessInfo.processInfo.environment["SLUICE_RECORD_CASES"] != nil

    /// Runs the case and compares its result with the expectation: what differs, one line each
    /// (empty when the case passes).
    func mismatches() -> [String] {
        do {
            let actual = try resultLines()
            let expectedPath = self.expectedPath
            guard let expectedData = FileManager.default.contents(atPath: expectedPath) else {
                let name = (expectedPath as NSString).lastPathComponent
                if Self.recordsMissingExpectations {
                    try Data(actual.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: expectedPath))
                    return ["no \(name): recorded \(actual.count) lines; read them, then commit"]
                }
                return ["no \(name) (SLUICE_RECORD_CASES=1 records it from the result)"]
            }
            var expected = String(decoding: expectedData, as: UTF8.self).split(separator: "\n").map(String.init)
                .filter { !$0.allSatisfy(\.isWhitespace) }
            var compared = actual
            if variant == .javascriptAsync {
                // `async ` and `await null;` move the columns of the stack's positions.
                expected = expected.map(Self.withFirstLineOfError)
                compared = compared.map(Self.withFirstLineOfError)
            }
            return Self.compare(expected: expected, actual: compared, ignore: try settings().ignore ?? [])
        } catch {
            return ["cannot run: \(error)"]
        }
    }

    /// Structurally first, with the snapshot harness's diff (paths such as `$[2].error`); then,
    /// when the values agree and no path is ignored, as text, line by line, so that what the
    /// structural diff cannot see (number spelling beyond a double, escapes, key order) still
    /// counts.
    static func compare(expected: [String], actual: [String], ignore: [String]) -> [String] {
        let differences = JSONDiff.differences(expected: parse(expected), actual: parse(actual), ignore: ignore)
        if !differences.isEmpty { return differences.map(\.description) }
        guard ignore.isEmpty else { return [] }
        return zip(expected, actual).enumerated().compactMap { index, pair in
            pair.0 == pair.1 ? nil : "$[\(index)]: the same JSON value written differently:\n    expected \(pair.0)\n    actual   \(pair.1)"
        }
    }

    /// An error line with only the first line of its message (the stack's positions dropped).
    static func withFirstLineOfError(_ line: String) -> String {
        guard line.hasPrefix(#"{"error":"#),
              var object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let message = object["error"] as? String, let firstLine = message.split(separator: "\n").first,
              let data = try? JSONSerialization.data(withJSONObject: { object["error"] = String(firstLine); return object }(),
                                                     options: [.sortedKeys, .withoutEscapingSlashes]) else { return line }
        return String(decoding: data, as: UTF8.self)
    }

    /// Each line's JSON value — or, for a line Foundation's parser cannot read (an integer past
    /// its range, a lone surrogate), the line's text, so that it is compared as text.
    static func parse(_ lines: [String]) -> [Any] {
        lines.map { line in (try? JSONSerialization.jsonObject(with: Data(line.utf8), options: [.fragmentsAllowed])) ?? line }
    }

    /// The snapshot harness's settings from `case.json` (limits, credentials, batch size, clock,
    /// seed, ignored paths).
    func settings() throws -> CaseSettings {
        guard let data = FileManager.default.contents(atPath: directory + "/" + Self.settingsFileName) else { return CaseSettings() }
        return try JSONDecoder().decode(CaseSettings.self, from: data)
    }

    /// The case's code, made async for the async variant.
    func code() throws -> String {
        let path = directory + "/" + sourceFileName
        guard let data = FileManager.default.contents(atPath: path) else { throw LoadError("\(id): no transform.js or transform.py") }
        let code = String(decoding: data, as: UTF8.self)
        guard variant == .javascriptAsync else { return code }
        guard let asynchronous = Self.madeAsync(code) else {
            throw LoadError("\(id): \"async\": true, but transform.js has no `export function transformEvent(` or `transformBatch(`")
        }
        return asynchronous
    }

    /// What `sluice run --logs` prints for the case's input, one string per line — or, when the
    /// code does not compile, the one line `{"compileError":"…"}`.
    func resultLines() throws -> [String] {
        let settings = try settings()
        let librariesPath = directory + "/" + Self.librariesFolderName
        let libraries: any LibraryProvider = FileManager.default.fileExists(atPath: librariesPath)
            ? LibraryDirectory(root: librariesPath, languages: Engines.languages) : NoLibraries()
        let source = TransformationSource(name: id, language: variant.language, fileName: sourceFileName, code: try code())
        let program = try Program.linking(source, from: libraries)
        if let message = executor.compileError(program) {
            return [#"{"compileError":"# + JSONString.encode(message) + "}"]
        }
        var options = StreamOptions()
        options.includeLogs = true
        options.batchSize = max(1, settings.batchSize ?? options.batchSize)
        options.credentials = settings.credentials ?? [:]
        options.determinism = try settings.determinism()
        options.fetchMocks = "{}"
        options.limits = (settings.limits ?? LimitsOverride()).applied(to: .defaults)
        let writer = OutputWriter.inMemory()
        _ = try EventStreamRunner(executor: executor, program: program, options: options)
            .run(input: try InputReader(path: directory + "/" + Self.inputFileName), output: writer)
        return String(decoding: writer.collected, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}
