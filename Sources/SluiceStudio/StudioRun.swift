import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTesting

/// What Studio runs: the editor's code (not saved) on a transformation's snapshot cases or on
/// pasted JSON/NDJSON, under limits the page may lower or raise up to the service's maxima.
///
/// `POST /studio/api/run` `{"code", "language", "name"?, "cases"?: ["sample"], "events"?: "…",
/// "limits"?: {"timeMilliseconds", "memoryMegabytes"}}` — with `cases` (or neither `cases` nor
/// `events`: every case of `name`) each case runs as `sluice test` runs it (its `case.json`
/// settings, fetch mocks, fixed clock) and is compared with its `expected.ndjson` by the harness's
/// structural diff; with `events` the pasted batch runs as `sluice run` would, with the service's
/// `fetch` (its egress guard).
public struct StudioRunRequest: Sendable {
    public enum Input: Sendable, Equatable {
        /// These cases of the transformation (nil: all of them).
        case cases([String]?)
        /// A JSON array or NDJSON of events, as pasted.
        case events(String)
        /// A slice of a recording (``StudioRecordings/SliceRequest``: `POST /studio/api/recordings/run`).
        case recording
    }

    public var name: String?
    public var code: String
    public var language: Language
    public var input: Input
    public var limits: LimitsOverride

    /// The request, or the problem with it (naming the field).
    /// With `recording`, a body naming a `recording` is a slice of it (the recordings route's).
    public static func parse(_ body: [UInt8], recording: Bool = false) -> Result<StudioRunRequest, StudioProblem> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return .failure(StudioProblem(400, "the body must be a JSON object {code, language, cases | events, limits?}"))
        }
        guard let code = object["code"] as? String, !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            return .failure(StudioProblem(400, "code is required (the editor's text)"))
        }
        let languageName = object["language"] as? String ?? "javascript"
        guard let language = Language(name: languageName) else {
            return .failure(StudioProblem(400, "language \(languageName) is not known (use javascript or python)"))
        }
        let name = (object["name"] as? String).flatMap { $0.isEmpty ? nil : $0 }
        let input: Input
        if let events = object["events"] {
            guard let text = events as? String else { return .failure(StudioProblem(400, "events must be the pasted text (a JSON array or NDJSON)")) }
            guard !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .failure(StudioProblem(400, "events is empty: paste a JSON array or NDJSON")) }
            input = .events(text)
        } else if object["recording"] != nil {
            guard recording else { return .failure(StudioProblem(400, "a slice of a recording runs through POST /studio/api/recordings/run")) }
            input = .recording
        } else if let cases = object["cases"] {
            guard let names = cases as? [String] else { return .failure(StudioProblem(400, "cases must be a list of case names")) }
            input = .cases(names)
        } else {
            input = .cases(nil)
        }
        if case .cases = input, name == nil {
            return .failure(StudioProblem(400, "name is required to run a transformation's cases (or send events)"))
        }
        var limits = LimitsOverride()
        if let value = object["limits"], !(value is NSNull) {
            guard let given = value as? [String: Any] else { return .failure(StudioProblem(400, "limits must be an object {timeMilliseconds, memoryMegabytes}")) }
            for key in given.keys.sorted() where key != "timeMilliseconds" && key != "memoryMegabytes" {
                return .failure(StudioProblem(400, "limits.\(key) is not a limit (use timeMilliseconds and memoryMegabytes)"))
            }
            for (key, path) in [("timeMilliseconds", \LimitsOverride.timeMilliseconds), ("memoryMegabytes", \LimitsOverride.memoryMegabytes)] {
                guard let number = given[key], !(number is NSNull) else { continue }
                guard let whole = number as? Int, whole >= 1 else { return .failure(StudioProblem(400, "limits.\(key) must be a whole number ≥ 1")) }
                limits[keyPath: path] = whole
            }
        }
        return .success(StudioRunRequest(name: name, code: code, language: language, input: input, limits: limits))
    }
}

/// A refusal with its HTTP status and message.
public struct StudioProblem: Error, Sendable, Equatable {
    public var status: Int
    public var message: String

    public init(_ status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var reply: StudioReply { StudioReply.error(status, message) }
}

/// A run ready to execute on an engine thread: the program's source, where its libraries come
/// from, its limits, and what it runs on. Made by ``StudioWorkspace/plan(_:)`` (which reads the
/// folders and the store); executed with ``execute(on:fetch:)`` on the service's executor.
public struct StudioRunPlan: Sendable {
    public var source: TransformationSource
    public var libraries: any LibraryProvider
    /// The limits the service would run the transformation with: the most a run may ask for.
    public var maxima: Limits
    /// What the page asked for (nil fields: the case's or the transformation's own).
    public var requested: LimitsOverride
    public var cases: [SnapshotCase]
    public var events: String?
    /// A recording's slice to run and compare with its recorded results (``replay(_:slice:on:fetch:)``).
    public var slice: StudioRecordings.Slice? = nil

    /// Runs the plan on `executor` (the service's: worker processes, with their confinement and
    /// limits). Blocks the calling thread; call it on an engine thread.
    public func execute(on executor: any BatchExecutor, fetch: FetchHandler?) -> StudioReply {
        let program: Program
        switch compiled(on: executor) {
        case .program(let found): program = found
        case .refused(let reply): return reply
        }
        var runs: [[String: Any]] = []
        if let events {
            var options = StreamOptions()
            options.includeLogs = true
            options.fetch = fetch
            options.limits = requested.applied(to: maxima)
            runs.append(run(program, on: executor, input: Array(events.utf8), options: options, expected: nil, ignore: [], name: "pasted events"))
        } else if let slice {
            runs.append(replay(program, slice: slice, on: executor, fetch: fetch))
        } else {
            for snapshot in cases {
                do {
                    let settings = try SnapshotRunner.settings(of: snapshot)
                    var options = try SnapshotRunner.streamOptions(settings, base: maxima)
                    // The page's limits win over the case's, within the maxima.
                    options.limits = requested.applied(to: options.limits)
                    let input = Array(try Data(contentsOf: URL(fileURLWithPath: snapshot.inputPath)))
                    let expected = FileManager.default.fileExists(atPath: snapshot.expectedPath)
                        ? Array(try Data(contentsOf: URL(fileURLWithPath: snapshot.expectedPath))) : nil
                    runs.append(run(program, on: executor, input: input, options: options, expected: expected, ignore: settings.ignore ?? [],
                                    name: (snapshot.directory as NSString).lastPathComponent))
                } catch {
                    runs.append(["name": (snapshot.directory as NSString).lastPathComponent, "status": "error", "message": "\(error)"])
                }
            }
        }
        return StudioReply.json(200, ["runs": runs, "limits": Self.limitsObject(maxima), "version": program.id])
    }

    enum Compiled {
        case program(Program)
        case refused(StudioReply)
    }

    /// The program, linked and compiled on `executor`; or the answer saying where it does not compile.
    func compiled(on executor: any BatchExecutor) -> Compiled {
        let program: Program
        do {
            let version = try TransformationVersion.linking(source, from: libraries, languages: Engines.languages, origin: "studio")
            program = Program(version, ephemeral: true)
        } catch {
            return .refused(StudioReply.json(200, ["compile": Self.located("\(error)", fileName: source.fileName), "limits": Self.limitsObject(maxima)]))
        }
        if let message = executor.compileError(program, limits: maxima) {
            return .refused(StudioReply.json(200, ["compile": Self.located(message, fileName: source.fileName), "limits": Self.limitsObject(maxima)]))
        }
        return .program(program)
    }

    /// "Accept as expected": runs the plan's one case as `sluice test` does and writes its result
    /// lines to the case's `expected.ndjson`. A run with unmocked fetches writes nothing (as
    /// `sluice test` records nothing then).
    public func acceptExpected(on executor: any BatchExecutor) -> StudioReply {
        guard cases.count == 1, let snapshot = cases.first else { return .error(400, "accept takes exactly one case") }
        let program: Program
        switch compiled(on: executor) {
        case .program(let found): program = found
        case .refused(let reply): return reply
        }
        let name = (snapshot.directory as NSString).lastPathComponent
        do {
            let settings = try SnapshotRunner.settings(of: snapshot)
            var options = try SnapshotRunner.streamOptions(settings, base: maxima)
            options.limits = requested.applied(to: options.limits)
            let input = Array(try Data(contentsOf: URL(fileURLWithPath: snapshot.inputPath)))
            let result = run(program, on: executor, input: input, options: options, expected: nil, ignore: [], name: name)
            guard let lines = result["lines"] as? String, result["status"] as? String == "ran" else {
                return .error(400, "case \(name) did not run: \(result["message"] as? String ?? "unknown error")")
            }
            if let unmocked = (result["summary"] as? [String: Any])?["unmockedRequests"] as? [String], !unmocked.isEmpty {
                return .error(400, "case \(name) made unmocked fetches (\(unmocked.joined(separator: ", "))): declare them under \"fetch\" in \(SnapshotCase.settingsFileName); nothing written")
            }
            try Data(lines.utf8).write(to: URL(fileURLWithPath: snapshot.expectedPath))
            return StudioReply.json(200, ["case": name, "written": snapshot.expectedPath,
                                          "lines": lines.split(separator: "\n").count, "run": result])
        } catch {
            return .error(500, "case \(name): \(error)")
        }
    }

    /// One input through the program, as `sluice run --logs` / `sluice test` run it (the same
    /// stream runner, so the result lines are the ones `sluice test` compares), with each input
    /// event's outcome, logs and time, and the differences from `expected` when there is one.
    /// `recorder` (made on `executor`) keeps the batches for the caller to read afterwards.
    func run(_ program: Program, on executor: any BatchExecutor, input: [UInt8], options: StreamOptions, expected: [UInt8]?,
             ignore: [String], name: String, recorder: RecordingExecutor? = nil) -> [String: Any] {
        let recorder = recorder ?? RecordingExecutor(base: executor)
        var records: [InputRecord] = []
        let reader = InputReader(bytes: input)
        do {
            while let record = try reader.next() { records.append(record) }
        } catch {
            return ["name": name, "status": "error", "message": "\(error)"]
        }
        let writer = OutputWriter.inMemory()
        let start = ContinuousClock.now
        let summary: StreamSummary
        do {
            summary = try EventStreamRunner(executor: recorder, program: program, options: options)
                .run(input: InputReader(bytes: input), output: writer)
        } catch {
            return ["name": name, "status": "error", "message": "\(error)"]
        }
        let elapsed = ContinuousClock.now - start
        var result: [String: Any] = [
            "name": name, "milliseconds": elapsed.millisecondsValue, "limits": Self.limitsObject(options.limits),
            "lines": String(decoding: writer.collected, as: UTF8.self),
        ]
        var events = Self.events(records: records, batches: recorder.batches, fileName: program.source.fileName, limits: options.limits)
        let unattributed = recorder.batches.flatMap { batch in
            batch.result.results.compactMap { eventResult -> Any? in
                guard eventResult.inputIndex == nil, case .output(let json) = eventResult.outcome else { return nil }
                return Self.value(json)
            }
        }
        if !unattributed.isEmpty { result["unattributedOutputs"] = unattributed }
        result["batchLogs"] = recorder.batches.flatMap { $0.result.logs.filter { $0.inputIndex == nil }.map(\.text) }
        result["summary"] = Self.summary(events, unmocked: summary.unmockedRequests)
        if let expected {
            do {
                let expectedValues = try SnapshotRunner.resultLines(expected, file: SnapshotCase.expectedFileName)
                let actualValues = try SnapshotRunner.resultLines(writer.collected, file: "result")
                let inputs = records.compactMap { record -> (line: Int, messageId: String?)? in
                    guard case .item(let item) = record else { return nil }
                    return (item.line, EventReference.messageId(ofInput: item.json))
                }
                let differences = EventReference.annotate(JSONDiff.differences(expected: expectedValues, actual: actualValues, ignore: ignore),
                                                          expected: expectedValues, actual: actualValues, inputs: inputs)
                result["status"] = differences.isEmpty ? "passed" : "failed"
                result["expected"] = String(decoding: expected, as: UTF8.self)
                result["differences"] = differences.map { difference -> [String: Any] in
                    var object = difference.jsonObject
                    object["text"] = difference.description
                    return object
                }
                // Each difference also under the input event it belongs to.
                for (index, event) in events.enumerated() {
                    let line = event["line"] as? Int
                    let mine = differences.filter { $0.event?.line != nil && $0.event?.line == line }
                    if !mine.isEmpty { events[index]["differences"] = mine.map(\.description) }
                }
            } catch {
                result["status"] = "error"
                result["message"] = "\(error)"
            }
        } else {
            result["status"] = "ran"
        }
        result["events"] = events
        return result
    }

    /// Per input event (in input order, malformed records in their place): its outcome —
    /// `output`, `split` (with the count), `dropped`, `error` (with the kind, message and the
    /// line:column in the user's file), or `none` (a `transformBatch` that returned nothing for
    /// it) — its outputs, logs, time in the engine and the limit it hit, if any.
    static func events(records: [InputRecord], batches: [RecordingExecutor.Recorded], fileName: String, limits: Limits) -> [[String: Any]] {
        // Global item index → (batch, index within the batch).
        var places: [(batch: Int, index: Int)] = []
        for (batchIndex, batch) in batches.enumerated() {
            for index in 0..<batch.count { places.append((batchIndex, index)) }
        }
        var events: [[String: Any]] = []
        var item = 0
        for record in records {
            switch record {
            case .malformed(let line, let message):
                events.append(["index": events.count, "line": line, "outcome": "error", "count": 0, "outputs": [Any](), "logs": [String](),
                               "error": ["kind": FailureKind.invalidInput.name, "message": "line \(line): \(message)"]])
            case .item(let input):
                defer { item += 1 }
                var event: [String: Any] = ["index": events.count, "line": input.line, "input": value(input.json)]
                if let messageId = EventReference.messageId(ofInput: input.json) { event["messageId"] = messageId }
                guard item < places.count else {
                    event["outcome"] = "none"
                    events.append(event)
                    continue
                }
                let place = places[item]
                let batch = batches[place.batch]
                let mine = batch.result.results.filter { $0.inputIndex == place.index }
                var outputs: [Any] = []
                var failure: Failure?
                var dropped = false
                for eventResult in mine {
                    switch eventResult.outcome {
                    case .output(let json): outputs.append(value(json))
                    case .dropped: dropped = true
                    case .failed(let failed): failure = failure ?? failed
                    }
                }
                event["outputs"] = outputs
                event["count"] = outputs.count
                if let failure {
                    event["outcome"] = "error"
                    var error = located(failure.message, fileName: fileName)
                    error["kind"] = failure.kind.name
                    event["error"] = error
                    if failure.kind == .timeLimit || failure.kind == .memoryLimit {
                        event["limitHit"] = failure.kind.name
                        event["limit"] = failure.kind == .timeLimit ? "\(limits.timeMilliseconds) ms" : "\(limits.memoryMegabytes) MB"
                    }
                } else if outputs.count > 1 {
                    event["outcome"] = "split"
                } else if outputs.count == 1 {
                    event["outcome"] = "output"
                } else {
                    event["outcome"] = dropped ? "dropped" : "none"
                }
                event["logs"] = batch.result.logs.filter { $0.inputIndex == place.index }.map(\.text)
                if place.index < batch.result.eventNanoseconds.count {
                    event["milliseconds"] = Double(batch.result.eventNanoseconds[place.index]) / 1_000_000
                    event["timing"] = "engine"
                } else {
                    // Worker processes do not report each call's time: the batch's wall time, shared.
                    event["milliseconds"] = Double(batch.nanoseconds) / 1_000_000 / Double(max(1, batch.count))
                    event["timing"] = "batch average"
                }
                events.append(event)
            }
        }
        return events
    }

    static func summary(_ events: [[String: Any]], unmocked: [String]) -> [String: Any] {
        var counts: [String: Int] = ["events": events.count, "outputs": 0, "dropped": 0, "split": 0, "errors": 0, "limitHits": 0]
        var kinds: [String: Int] = [:]
        for event in events {
            counts["outputs", default: 0] += event["count"] as? Int ?? 0
            switch event["outcome"] as? String {
            case "dropped": counts["dropped", default: 0] += 1
            case "split": counts["split", default: 0] += 1
            case "error":
                counts["errors", default: 0] += 1
                if let kind = (event["error"] as? [String: Any])?["kind"] as? String { kinds[kind, default: 0] += 1 }
            default: break
            }
            if event["limitHit"] != nil { counts["limitHits", default: 0] += 1 }
        }
        var summary: [String: Any] = counts
        summary["errorKinds"] = kinds
        if !unmocked.isEmpty { summary["unmockedRequests"] = Array(Set(unmocked)).sorted() }
        return summary
    }

    /// `{"message", "line"?, "column"?}`: where in the user's file `message` points — the first
    /// `file.js:3:14` / `file.py:3` / `File "file.py", line 3` naming `fileName`.
    static func located(_ message: String, fileName: String) -> [String: Any] {
        var object: [String: Any] = ["message": message]
        if let location = StudioLocation.find(in: message, fileName: fileName) {
            object["line"] = location.line
            if let column = location.column { object["column"] = column }
        }
        return object
    }

    static func limitsObject(_ limits: Limits) -> [String: Any] {
        ["timeMilliseconds": limits.timeMilliseconds, "memoryMegabytes": limits.memoryMegabytes]
    }

    static func value(_ json: JSONText) -> Any {
        (try? JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])) ?? String(decoding: json, as: UTF8.self)
    }
}

/// Where an error message points in the user's file.
public enum StudioLocation {
    /// The first location in `message` within `fileName`: `transform.js:3:14` (JavaScriptCore's
    /// compile errors and stack frames), `transform.py:3:5` (Sluice's Python checks) or
    /// `File "transform.py", line 3` (Python tracebacks) or `(transform.py, line 2, column 9)`
    /// (Python syntax errors).
    public static func find(in message: String, fileName: String) -> (line: Int, column: Int?)? {
        let escaped = NSRegularExpression.escapedPattern(for: fileName)
        let patterns = [escaped + #":(\d+)(?::(\d+))?"#, #"File "(?:[^"]*/)?"# + escaped + #"", line (\d+)"#,
                        #"\("# + escaped + #", line (\d+)(?:, column (\d+))?\)"#]
        var best: (offset: Int, line: Int, column: Int?)?
        let range = NSRange(message.startIndex..., in: message)
        for pattern in patterns {
            guard let expression = try? NSRegularExpression(pattern: pattern),
                  let match = expression.firstMatch(in: message, range: range),
                  let lineRange = Range(match.range(at: 1), in: message), let line = Int(message[lineRange]) else { continue }
            var column: Int?
            if match.numberOfRanges > 2, let columnRange = Range(match.range(at: 2), in: message) { column = Int(message[columnRange]) }
            if best == nil || match.range.location < best!.offset { best = (match.range.location, line, column) }
        }
        return best.map { ($0.line, $0.column) }
    }
}

/// Runs batches through `base` as given, asking the engine for each call's time (in-process
/// engines report it; worker processes do not), and keeps every batch's results for shaping.
final class RecordingExecutor: BatchExecutor, @unchecked Sendable {
    struct Recorded {
        var count: Int
        var result: BatchResult
        var nanoseconds: UInt64
        /// The whole batch failed for a reason a retry can fix: the stream runner runs it again
        /// (``BatchExecutor/results(_:batch:limits:)``, at most three tries in all).
        var retryable: Bool
        var tries: Int
    }

    let base: any BatchExecutor
    private let lock = ThreadLock()
    private var recorded: [Recorded] = []

    init(base: any BatchExecutor) {
        self.base = base
    }

    var batches: [Recorded] { lock.withLock { recorded } }

    func run(_ program: Program, batch: Batch, limits: Limits) -> Execution {
        var measured = batch
        measured.measuresEventTimes = true
        let start = ContinuousClock.now
        let execution = base.run(program, batch: measured, limits: limits)
        let elapsed = (ContinuousClock.now - start).components
        let nanoseconds = UInt64(max(0, elapsed.seconds)) * 1_000_000_000 + UInt64(max(0, elapsed.attoseconds / 1_000_000_000))
        lock.withLock {
            var tries = 1
            // A retry of the batch before replaces its failed try.
            if let last = recorded.last, last.retryable, last.tries < 3, last.count == batch.items.count {
                tries = last.tries + 1
                recorded.removeLast()
            }
            recorded.append(Recorded(count: batch.items.count, result: execution.results(for: measured), nanoseconds: nanoseconds,
                                     retryable: execution.failure?.kind.isRetryable ?? false, tries: tries))
        }
        return execution
    }
}
