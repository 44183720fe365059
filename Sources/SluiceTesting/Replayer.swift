import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// What a replay found, per input event.
public struct ReplaySummary: Sendable {
    public struct Example: Sendable {
        /// `<file>:<line>` of the recorded event.
        public var location: String
        /// The recorded event: its recording file and line, and its `messageId`.
        public var event: EventReference
        public var kind: String
        public var differences: [JSONDifference]
    }

    public var events = 0
    /// What the candidate's results were (``OutcomeTally``; its `events` equals ``events``).
    public var outcomes = OutcomeTally()
    public var unchanged = 0
    public var changed = 0
    public var newlyDropped = 0
    /// Events that were dropped and now give output.
    public var newlyProduced = 0
    public var newlyFailing = 0
    public var newlyPassing = 0
    /// Recording lines that are not recordings (reported, not replayed).
    public var unreadable = 0
    /// How often each path (indices generalised to `[*]`) differed.
    public var paths: [String: Int] = [:]
    /// The first differing events in full.
    public var examples: [Example] = []
    public var seconds = 0.0

    /// True when any event's results differ.
    public var differs: Bool { changed + newlyDropped + newlyProduced + newlyFailing + newlyPassing > 0 }
}

/// Replays recordings through a candidate transformation and compares, per event, with the
/// recorded results or with a second transformation run side by side. Streams: memory holds about
/// four batches per job, the path histogram and the kept examples.
public final class Replayer {
    public struct Options: Sendable {
        public var batchSize = 200
        public var ignore: [String] = []
        public var examples = 5
        public var limits: Limits = .defaults
        public var determinism: Determinism? = .testDefaults
        /// Batches run at once (see ``StreamOptions/jobs``); the report is the same whatever
        /// the number.
        public var jobs = 1
        public init() {}
    }

    /// Runs a batch through the candidate; through the baseline, when there is one.
    private let candidate: (Batch) -> BatchResult
    private let baseline: ((Batch) -> BatchResult)?
    private let options: Options

    public init(runtime: Runtime, candidate: any CompiledTransformation,
                against baseline: (runtime: Runtime, transformation: any CompiledTransformation, limits: Limits)? = nil,
                options: Options) {
        self.candidate = { batch in runtime.run(candidate, batch: batch, limits: options.limits) }
        self.baseline = baseline.map { baseline in { batch in baseline.runtime.run(baseline.transformation, batch: batch, limits: baseline.limits) } }
        self.options = options
    }

    /// Replays through `candidate` (and `baseline`) on `executor`: in-process or worker processes.
    public init(executor: any BatchExecutor, candidate: Program, against baseline: (program: Program, limits: Limits)? = nil,
                options: Options) {
        self.candidate = { batch in executor.results(candidate, batch: batch, limits: options.limits) }
        self.baseline = baseline.map { baseline in { batch in executor.results(baseline.program, batch: batch, limits: baseline.limits) } }
        self.options = options
    }

    /// The recording files `paths` name: a file as it is, a folder as every `.ndjson` file in it
    /// (by name, so a recording's rotated files stay in order). A folder without any is an error.
    public static func recordingFiles(_ paths: [String]) throws -> [String] {
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw LoadError("\(path): no such file or folder") }
            guard isDirectory.boolValue else {
                files.append(path)
                continue
            }
            let names = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".ndjson") && !$0.hasPrefix(".") }.sorted()
            guard !names.isEmpty else { throw LoadError("\(path): no recordings (.ndjson files from sluice record or serve --record) in this folder") }
            files += names.map { (path.hasSuffix("/") ? path : path + "/") + $0 }
        }
        return files
    }

    /// A batch read from the recordings, ready for the engine.
    private struct Prepared {
        var inputs: [JSONText] = []
        var recorded: [[[UInt8]]] = []
        var locations: [(file: String, line: Int)] = []
        var unreadable = 0
        var bytes = 0
    }

    /// Replays every file; `progress(bytesDone, eventsDone)` is called after each batch.
    ///
    /// Reading and slicing the recordings runs on its own thread, ``Options/jobs`` threads run
    /// batches through the candidate (and the baseline), and this thread compares each batch in
    /// recording order (``OrderedPipeline``), so the report does not depend on the number of jobs.
    public func replay(files: [String], progress: (Int, Int) -> Void = { _, _ in }) throws -> ReplaySummary {
        var summary = ReplaySummary()
        let start = ContinuousClock.now
        let batchSize = max(1, options.batchSize)
        // Batches run on across files: recordings rotate by size, not at batch boundaries, and
        // transformBatch sees the same batches as when recorded.
        var remainingFiles = files[...]
        var current: (name: String, reader: InputReader)?
        var pendingRecords: ArraySlice<InputRecord> = []
        func nextBatch() throws -> Prepared? {
            var prepared = Prepared()
            while prepared.inputs.count < batchSize {
                if pendingRecords.isEmpty {
                    if current == nil {
                        guard let file = remainingFiles.popFirst() else { break }
                        current = ((file as NSString).lastPathComponent, try InputReader(path: file))
                    }
                    let records = try current!.reader.next(upTo: batchSize)
                    if records.isEmpty {
                        current = nil
                        continue
                    }
                    pendingRecords = records[...]
                }
                let record = pendingRecords.removeFirst()
                guard case .item(let item) = record else {
                    prepared.unreadable += 1
                    continue
                }
                prepared.bytes += item.json.count + 1
                guard let parts = RecordingLine.split(item.json) else {
                    prepared.unreadable += 1
                    continue
                }
                prepared.inputs.append(parts.input)
                prepared.recorded.append(parts.results)
                prepared.locations.append((current!.name, item.line))
            }
            return prepared.inputs.isEmpty && prepared.unreadable == 0 ? nil : prepared
        }
        var bytesDone = 0
        try OrderedPipeline<Prepared, (candidate: BatchResult, baseline: BatchResult?)?>(workers: options.jobs).run(
            produce: nextBatch,
            work: { [options, candidate, baseline] prepared in
                if prepared.inputs.isEmpty { return nil }
                let batch = Batch(items: prepared.inputs, determinism: options.determinism)
                return (candidate(batch), baseline.map { $0(batch) })
            },
            consume: { prepared, results in
                summary.unreadable += prepared.unreadable
                bytesDone += prepared.bytes
                guard let results else { return }
                let count = prepared.inputs.count
                summary.outcomes.add(results.candidate, events: count)
                let fresh = group(results.candidate, count: count)
                let reference = results.baseline.map { group($0, count: count) } ?? prepared.recorded
                for index in 0..<count {
                    compare(reference[index], fresh[index], input: prepared.inputs[index], location: prepared.locations[index], into: &summary)
                }
                progress(bytesDone, summary.events)
            })
        let elapsed = ContinuousClock.now - start
        summary.seconds = elapsed.secondsValue
        return summary
    }

    /// Result lines per input; results that belong to no input go with the batch's last input.
    private func group(_ result: BatchResult, count: Int) -> [[[UInt8]]] {
        var grouped = [[[UInt8]]](repeating: [], count: count)
        for eventResult in result.results {
            var line: [UInt8] = []
            ResultLine.append(eventResult, to: &line)
            grouped[min(eventResult.inputIndex ?? (count - 1), count - 1)].append(line)
        }
        return grouped
    }

    private func compare(_ expected: [[UInt8]], _ actual: [[UInt8]], input: JSONText, location: (file: String, line: Int),
                         into summary: inout ReplaySummary) {
        summary.events += 1
        if expected == actual {
            summary.unchanged += 1
            return
        }
        let expectedValues = expected.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) }
        let actualValues = Self.withoutKindsRecordedWithout(
            expected: expectedValues, actual: actual.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) })
        let differences = JSONDiff.differences(expected: expectedValues, actual: actualValues, ignore: options.ignore)
        if differences.isEmpty {
            summary.unchanged += 1
            return
        }
        func kinds(_ values: [Any]) -> Set<String> {
            Set(values.compactMap { ($0 as? [String: Any]).flatMap { object in ["output", "dropped", "error"].first { object[$0] != nil } } })
        }
        let before = kinds(expectedValues), after = kinds(actualValues)
        let kind: String
        if !before.contains("error") && after.contains("error") {
            kind = "newly failing"
            summary.newlyFailing += 1
        } else if before.contains("error") && !after.contains("error") {
            kind = "newly passing"
            summary.newlyPassing += 1
        } else if before.contains("output") && !after.contains("output") && after.contains("dropped") {
            kind = "newly dropped"
            summary.newlyDropped += 1
        } else if !before.contains("output") && before.contains("dropped") && after.contains("output") {
            kind = "newly produced"
            summary.newlyProduced += 1
        } else {
            kind = "changed"
            summary.changed += 1
        }
        for difference in differences {
            summary.paths[Self.generalise(difference.path), default: 0] += 1
        }
        if summary.examples.count < options.examples {
            let event = EventReference(line: location.line, messageId: EventReference.messageId(ofInput: input), file: location.file)
            summary.examples.append(.init(location: "\(location.file):\(location.line)", event: event, kind: kind,
                                          differences: differences.prefix(20).map { JSONDifference(path: $0.path, kind: $0.kind, event: event) }))
        }
    }

    /// `actual` without the `"kind"` of the error lines whose recorded counterpart has none:
    /// recordings made before error lines carried their kind still replay unchanged.
    static func withoutKindsRecordedWithout(expected: [Any], actual: [Any]) -> [Any] {
        actual.enumerated().map { index, value in
            guard index < expected.count, let recorded = expected[index] as? [String: Any], recorded["error"] != nil,
                  recorded["kind"] == nil, var fresh = value as? [String: Any], fresh["error"] != nil else { return value }
            fresh["kind"] = nil
            return fresh
        }
    }

    /// `$[0].output.products[3].price` → `$[*].output.products[*].price`.
    static func generalise(_ path: String) -> String {
        var result = ""
        var inIndex = false
        for character in path {
            if character == "[" {
                inIndex = true
                result.append("[")
            } else if inIndex {
                if character == "]" {
                    inIndex = false
                    result += "*]"
                } else if !character.isNumber {
                    // a quoted key, not an index: keep it
                    inIndex = false
                    result.append(character)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}

/// Slices a recording line `{"input":…,"results":[…]}` into the input's bytes and each result
/// line's bytes without parsing values; other shapes go through JSONSerialization.
enum RecordingLine {
    static func split(_ line: [UInt8]) -> (input: JSONText, results: [[UInt8]])? {
        let prefix = Array(#"{"input":"#.utf8)
        if line.starts(with: prefix), let inputEnd = JSONScanner.endOfValue(line, from: prefix.count) {
            let separator = Array(#","results":["#.utf8)
            if line[inputEnd...].starts(with: separator), line.count >= 2, line[line.count - 2] == UInt8(ascii: "]"),
               line[line.count - 1] == UInt8(ascii: "}") {
                var results: [[UInt8]] = []
                var position = inputEnd + separator.count
                let closing = line.count - 2
                while position < closing {
                    // Each element must be followed by `,` or the closing `]`; anything else
                    // (or no progress) means the line is not ours: let the parser judge it.
                    guard let end = JSONScanner.endOfValue(line, from: position), end > position,
                          end == closing || line[end] == UInt8(ascii: ",") else { return slow(line) }
                    results.append(Array(line[position..<end]))
                    position = end == closing ? end : end + 1
                }
                return (Array(line[prefix.count..<inputEnd]), results)
            }
        }
        return slow(line)
    }

    private static func slow(_ line: [UInt8]) -> (input: JSONText, results: [[UInt8]])? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
              let input = object["input"], let results = object["results"] as? [Any] else { return nil }
        // An input that was not JSON is recorded as its text, flagged "raw".
        let inputData: Data
        if object["raw"] as? Bool == true, let text = input as? String {
            inputData = Data(text.utf8)
        } else if let data = try? JSONSerialization.data(withJSONObject: input, options: [.fragmentsAllowed, .withoutEscapingSlashes]) {
            inputData = data
        } else {
            return nil
        }
        let resultLines = results.compactMap { try? JSONSerialization.data(withJSONObject: $0, options: [.withoutEscapingSlashes]) }
        return (Array(inputData), resultLines.map { Array($0) })
    }
}

/// Finds where a JSON value ends, knowing only strings, escapes and nesting.
enum JSONScanner {
    /// The index just past the value starting at `start` (whitespace before it skipped), or nil.
    static func endOfValue(_ bytes: [UInt8], from start: Int) -> Int? {
        bytes.withUnsafeBufferPointer { buffer -> Int? in
            var index = start
            let count = buffer.count
            while index < count, buffer[index] == 0x20 || buffer[index] == 0x09 { index += 1 }
            guard index < count else { return nil }
            var depth = 0
            var inString = false
            while index < count {
                let byte = buffer[index]
                if inString {
                    if byte == UInt8(ascii: "\\") { index += 2; continue }
                    if byte == UInt8(ascii: "\"") {
                        inString = false
                        if depth == 0 { return index + 1 }
                    }
                    index += 1
                    continue
                }
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if depth == 0 { return index }  // a scalar ended by its container
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case UInt8(ascii: ","):
                    if depth == 0 { return index }
                default:
                    break
                }
                index += 1
            }
            return depth == 0 && !inString ? index : nil
        }
    }
}
