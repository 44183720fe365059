import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// How one case ended.
public struct CaseReport: Sendable {
    public enum Status: String, Sendable {
        case passed, failed, recorded, updated, error
    }

    public var id: String
    public var status: Status
    /// For failed and updated cases: what differs between the expectation and the result.
    public var differences: [JSONDifference] = []
    /// For errors (cannot load, cannot compile) and recordings: what happened.
    public var message: String?
    public var seconds: Double = 0
    /// What the case's events ended as, when it ran (nil when it could not run).
    public var outcomes: OutcomeTally?

    public init(id: String, status: Status, differences: [JSONDifference] = [], message: String? = nil, seconds: Double = 0) {
        self.id = id
        self.status = status
        self.differences = differences
        self.message = message
        self.seconds = seconds
    }

    /// Recorded and error cases fail too: a recording must be reviewed before it passes.
    public var isFailure: Bool { status == .failed || status == .recorded || status == .error }
}

/// Runs snapshot cases with the same limits as the service, through an executor: the engines in
/// this process (the default here) or worker processes (`sluice test` by default).
public final class SnapshotRunner {
    /// Rewrite expectations that differ (and say what changed).
    public let update: Bool
    /// Write a missing expectation (the case still fails). Off in CI.
    public let recordMissing: Bool
    /// Where the cases' code runs.
    public let executor: any BatchExecutor

    public init(update: Bool = false, recordMissing: Bool = true, executor: any BatchExecutor = InProcessExecutor()) {
        self.update = update
        self.recordMissing = recordMissing
        self.executor = executor
    }

    public func run(_ snapshot: SnapshotCase) -> CaseReport {
        timed { compare(snapshot, outcomes: &$0) }
    }

    /// The report of `check` with its run's tally (when it ran) and how long it took.
    func timed(_ check: (inout OutcomeTally?) -> CaseReport) -> CaseReport {
        let start = ContinuousClock.now
        var outcomes: OutcomeTally?
        var report = check(&outcomes)
        report.outcomes = outcomes
        report.seconds = (ContinuousClock.now - start).secondsValue
        return report
    }

    /// Runs the case and compares; `outcomes` gets the run's tally when it ran.
    private func compare(_ snapshot: SnapshotCase, outcomes: inout OutcomeTally?) -> CaseReport {
        do {
            let settings = try loadSettings(snapshot)
            let (actual, summary) = try produce(snapshot, settings: settings)
            outcomes = summary.outcomes
            let unmocked = summary.unmockedRequests
            if !unmocked.isEmpty {
                let requests = Array(Set(unmocked)).sorted().joined(separator: ", ")
                return CaseReport(id: snapshot.id, status: .error,
                                  message: "unmocked fetch: \(requests) (declare the responses under \"fetch\" in \(SnapshotCase.settingsFileName))")
            }
            let actualValues = try parseLines(actual, file: "result")
            guard FileManager.default.fileExists(atPath: snapshot.expectedPath) else {
                if recordMissing {
                    try Data(actual).write(to: URL(fileURLWithPath: snapshot.expectedPath))
                    return CaseReport(id: snapshot.id, status: .recorded,
                                      message: "no \(SnapshotCase.expectedFileName): recorded \(Wording.counted(actualValues.count, "line")); review and commit it (the case fails until then)")
                }
                return CaseReport(id: snapshot.id, status: .error, message: "no \(SnapshotCase.expectedFileName) (not recorded in CI)")
            }
            let expectedBytes = Array(try Data(contentsOf: URL(fileURLWithPath: snapshot.expectedPath)))
            let expectedValues = try parseLines(expectedBytes, file: snapshot.expectedPath)
            let differences = EventReference.annotate(JSONDiff.differences(expected: expectedValues, actual: actualValues, ignore: settings.ignore ?? []),
                                                      expected: expectedValues, actual: actualValues, inputs: Self.inputEvents(snapshot.inputPath))
            if differences.isEmpty { return CaseReport(id: snapshot.id, status: .passed) }
            if update {
                try Data(actual).write(to: URL(fileURLWithPath: snapshot.expectedPath))
                return CaseReport(id: snapshot.id, status: .updated, differences: differences)
            }
            let withoutKind = Self.linesWithoutKind(differences)
            return CaseReport(id: snapshot.id, status: .failed, differences: differences, message: withoutKind == 0 ? nil
                : "\(Wording.counted(withoutKind, "error line")) of \(SnapshotCase.expectedFileName) \(withoutKind == 1 ? "has" : "have") no \"kind\" (written before result lines carried it): sluice test --update adds it")
        } catch {
            return CaseReport(id: snapshot.id, status: .error, message: "\(error)")
        }
    }

    /// Each input item's line and `messageId`, to name the event a difference is in.
    static func inputEvents(_ path: String) -> [(line: Int, messageId: String?)] {
        guard let reader = try? InputReader(path: path) else { return [] }
        var events: [(line: Int, messageId: String?)] = []
        while let records = try? reader.next(upTo: 256), !records.isEmpty {
            for record in records {
                if case .item(let item) = record { events.append((item.line, EventReference.messageId(ofInput: item.json))) }
            }
        }
        return events
    }

    /// How many differences are a `"kind"` a result line has and its expected line lacks.
    static func linesWithoutKind(_ differences: [JSONDifference]) -> Int {
        differences.filter { difference in
            guard case .added = difference.kind else { return false }
            let path = difference.path
            guard path.hasPrefix("$["), path.hasSuffix("].kind"), path.count > 8 else { return false }
            return path.dropFirst(2).dropLast(6).allSatisfy(\.isNumber)
        }.count
    }

    private func loadSettings(_ snapshot: SnapshotCase) throws -> CaseSettings {
        try Self.settings(of: snapshot)
    }

    /// The case's `case.json` settings (defaults when it has none); Studio runs cases with them too.
    public static func settings(of snapshot: SnapshotCase) throws -> CaseSettings {
        guard FileManager.default.fileExists(atPath: snapshot.settingsPath) else { return CaseSettings() }
        return try CaseSettings(file: SettingsFile(path: snapshot.settingsPath))
    }

    /// Runs the case's input through its transformation; the `sluice run --logs` output.
    private func produce(_ snapshot: SnapshotCase, settings: CaseSettings) throws -> (output: [UInt8], summary: StreamSummary) {
        let definition = try TransformationLoader.load(path: snapshot.transformationDirectory)
        let libraryRoot = LibraryDirectory.nearestRoot(to: snapshot.transformationDirectory)
        let program = try Program.linking(definition.source, from: LibraryDirectory(root: libraryRoot, languages: Engines.languages))
        if let message = executor.compileError(program) {
            throw LoadError("\(definition.source.fileName): \(message)")
        }
        let options = try Self.streamOptions(settings, base: definition.limits.applied(to: .defaults))
        let writer = OutputWriter.inMemory()
        let summary = try EventStreamRunner(executor: executor, program: program, options: options)
            .run(input: try InputReader(path: snapshot.inputPath), output: writer)
        return (writer.collected, summary)
    }

    /// How a case's events run (`sluice test`, and Studio on a case): logs kept, the case's batch
    /// size, credentials, fixed clock and seed, fetch mocks (none declared: every fetch fails) and
    /// its limits over `base`.
    public static func streamOptions(_ settings: CaseSettings, base: Limits) throws -> StreamOptions {
        var options = StreamOptions()
        options.includeLogs = true
        options.batchSize = max(1, settings.batchSize ?? options.batchSize)
        options.credentials = settings.credentials ?? [:]
        options.determinism = try settings.determinism()
        // In a test run every request must be mocked: no "fetch" is no mocks.
        options.fetchMocks = settings.fetchMocks ?? "{}"
        options.limits = (settings.limits ?? LimitsOverride()).applied(to: base)
        return options
    }

    private func parseLines(_ bytes: [UInt8], file: String) throws -> [Any] {
        try Self.resultLines(bytes, file: file)
    }

    /// The JSON values of result lines (`expected.ndjson`, a run's output), blank lines skipped;
    /// a line that is not JSON is an error naming `file` and the line.
    public static func resultLines(_ bytes: [UInt8], file: String) throws -> [Any] {
        var values: [Any] = []
        for (number, line) in bytes.split(separator: 0x0A, omittingEmptySubsequences: false).enumerated()
        where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
            do {
                values.append(try JSONSerialization.jsonObject(with: Data(line), options: [.fragmentsAllowed]))
            } catch {
                throw LoadError("\(file): line \(number + 1) is not JSON")
            }
        }
        return values
    }
}
