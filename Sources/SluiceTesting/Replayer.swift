import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

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
                let fresh = ReplaySummary.resultLines(of: results.candidate, inputs: count)
                let reference = results.baseline.map { ReplaySummary.resultLines(of: $0, inputs: count) } ?? prepared.recorded
                for index in 0..<count {
                    let location = prepared.locations[index]
                    summary.compare(expected: reference[index], actual: fresh[index],
                                    event: EventReference(line: location.line, messageId: EventReference.messageId(ofInput: prepared.inputs[index]), file: location.file),
                                    location: "\(location.file):\(location.line)", ignore: options.ignore, examples: options.examples)
                }
                progress(bytesDone, summary.events)
            })
        let elapsed = ContinuousClock.now - start
        summary.seconds = elapsed.secondsValue
        return summary
    }
}

/// Slices a recording line `{"input":…,"results":[…]}` into the input's bytes and each result
/// line's bytes without parsing values; other shapes go through JSONSerialization. Nil for a line
/// that is not a recording. (Studio reads slices of recordings with it too.)
public enum RecordingLine {
    public static func split(_ line: [UInt8]) -> (input: JSONText, results: [[UInt8]])? {
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
