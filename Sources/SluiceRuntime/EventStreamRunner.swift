import SluiceCore
import SluiceRegistry
import SluiceSandbox

/// Options of a streamed run (`sluice run`).
public struct StreamOptions: Sendable {
    /// Inputs per batch: one fresh module instance and, for `transformBatch`, one call per batch.
    /// Default 200, the batch size rudder-server sends.
    public var batchSize: Int = 200
    public var limits: Limits = .defaults
    public var credentials: [String: CredentialValue] = [:]
    /// Write `{"log": …, "messageId": …}` lines before each event's results.
    public var includeLogs = false
    /// Batches run at once (engines or worker processes in parallel); results are still written
    /// in input order, the same bytes as with 1. The executor must run batches concurrently for
    /// this to help (``WorkerPool``, ``InProcessExecutorPool``).
    public var jobs = 1
    /// Fixed clocks and seeded randomness (test and replay runs); the clock and the random
    /// sequence restart with every batch, so results do not depend on which engine ran a batch.
    public var determinism: Determinism?
    /// `fetch` mocks (test runs, `sluice run --fetch-mocks`), see ``Batch/fetchMocks``.
    public var fetchMocks: String?
    /// Performs real fetches of code running in this process when there are no mocks (`sluice
    /// run --allow-net`); worker processes use their pool's. Nil: fetches fail, see
    /// ``FetchFailure/unavailableOffline``.
    public var fetch: FetchHandler?

    public init() {}
}

/// Counts of a streamed run.
public struct StreamSummary: Sendable, Hashable {
    /// Events in (malformed input items included) and what their results were.
    public var outcomes = OutcomeTally()
    /// Requests no `fetch` mock answered (test runs).
    public var unmockedRequests: [String] = []
}

/// Streams inputs through a compiled transformation in batches and writes one NDJSON line per
/// result, in input order:
///
/// - `{"output": {...}, "metadata": {...}}`
/// - `{"error": "...", "kind": "exception", "metadata": {...}}` (``ResultLine``; an invalid input's message starts
///   with its line: `line 7: invalid JSON: …`, kind `invalid_input`)
/// - `{"dropped": true, "metadata": {...}}`
/// - with logs: `{"log": "...", "messageId": "..."}` before the results of the event that logged it.
///
/// Memory stays bounded by about four batches of input and their results per job (the pipeline's
/// window).
public struct EventStreamRunner {
    public let options: StreamOptions
    /// Runs one batch (the engines in this process, or worker processes).
    private let execute: (Batch) -> BatchResult

    /// Runs batches through a transformation compiled by `runtime`, in this process.
    public init(runtime: Runtime, transformation: any CompiledTransformation, options: StreamOptions) {
        self.options = options
        execute = { batch in runtime.run(transformation, batch: batch, limits: options.limits) }
    }

    /// Runs batches of `program` through `executor` (in-process or worker processes); a poison
    /// event costs only its own result (see ``BatchExecutor``).
    public init(executor: any BatchExecutor, program: Program, options: StreamOptions) {
        self.options = options
        execute = { batch in executor.results(program, batch: batch, limits: options.limits) }
    }

    /// One batch as read.
    private struct Prepared: @unchecked Sendable {
        var items: [JSONText] = []
        var lines: [Int] = []
        /// Malformed records are written in their place among the batch's results.
        var malformedBefore: [Int: [(line: Int, message: String)]] = [:]
    }

    /// Streams `input` through the transformation into `output`. Reading, the engines and writing
    /// run as a pipeline (``OrderedPipeline``): one thread reads and forms batches exactly as a
    /// single engine would, ``StreamOptions/jobs`` threads run batches at once, and this thread
    /// writes each batch's results in input order — so the output is the same byte for byte
    /// whatever the number of jobs. Memory holds about four batches per job. `progress` hears the
    /// tally so far after each batch is written (on this thread); an error it throws ends the run.
    public func run(input: InputReader, output: OutputWriter, progress: ((OutcomeTally) throws -> Void)? = nil) throws -> StreamSummary {
        let batchSize = max(1, options.batchSize)
        var summary = StreamSummary()
        try OrderedPipeline<Prepared, BatchResult>(workers: options.jobs).run(
            produce: {
                let records = try input.next(upTo: batchSize)
                if records.isEmpty { return nil }
                var prepared = Prepared()
                prepared.items.reserveCapacity(records.count)
                for record in records {
                    switch record {
                    case .item(let item):
                        prepared.items.append(item.json)
                        prepared.lines.append(item.line)
                    case .malformed(let line, let message):
                        prepared.malformedBefore[prepared.items.count, default: []].append((line, message))
                    }
                }
                return prepared
            },
            work: { [options, execute] prepared in
                guard !prepared.items.isEmpty else { return BatchResult(results: [], logs: []) }
                var batch = Batch(items: prepared.items, credentials: options.credentials, determinism: options.determinism,
                                  fetchMocks: options.fetchMocks)
                batch.fetch = options.fetch
                return execute(batch)
            },
            consume: { prepared, result in
                summary.outcomes.events += prepared.items.count
                summary.unmockedRequests += result.unmockedRequests
                try write(result, lines: prepared.lines, malformedBefore: prepared.malformedBefore,
                          inputCount: prepared.items.count, output: output, summary: &summary)
                try progress?(summary.outcomes)
            })
        try output.flush()
        return summary
    }

    private func write(_ result: BatchResult, lines: [Int], malformedBefore: [Int: [(line: Int, message: String)]],
                       inputCount: Int, output: OutputWriter, summary: inout StreamSummary) throws {
        var logsByInput: [Int: [LogLine]] = [:]
        var unattributedLogs: [LogLine] = []
        if options.includeLogs {
            for line in result.logs {
                if let index = line.inputIndex { logsByInput[index, default: []].append(line) } else { unattributedLogs.append(line) }
            }
        }
        var line: [UInt8] = []
        func writeMalformed(at index: Int) throws {
            for malformed in malformedBefore[index] ?? [] {
                let result = EventResult(inputIndex: nil, outcome: .failed(Failure(.invalidInput, malformed.message)),
                                         metadata: Array("{}".utf8))
                summary.outcomes.events += 1
                summary.outcomes.add(result.outcome)
                line.removeAll(keepingCapacity: true)
                ResultLine.append(result, to: &line)
                line.append(0x0A)
                try output.write(line)
            }
        }
        func writeLogs(_ logs: [LogLine]) throws {
            for log in logs {
                line.removeAll(keepingCapacity: true)
                line += Array(#"{"log":"#.utf8)
                JSONString.append(log.text, to: &line)
                if let messageId = log.messageId {
                    line += Array(#","messageId":"#.utf8)
                    JSONString.append(messageId, to: &line)
                }
                line += [UInt8(ascii: "}"), 0x0A]
                try output.write(line)
            }
        }
        try writeLogs(unattributedLogs)
        var nextInput = 0
        for eventResult in result.results {
            if let index = eventResult.inputIndex {
                while nextInput <= index {
                    try writeMalformed(at: nextInput)
                    try writeLogs(logsByInput.removeValue(forKey: nextInput) ?? [])
                    nextInput += 1
                }
            }
            line.removeAll(keepingCapacity: true)
            var message: String?
            summary.outcomes.add(eventResult.outcome)
            if case .failed(let failure) = eventResult.outcome, failure.kind == .invalidInput,
               let index = eventResult.inputIndex, index < lines.count {
                message = "line \(lines[index]): " + failure.message
            }
            ResultLine.append(eventResult, message: message, to: &line)
            line.append(0x0A)
            try output.write(line)
        }
        while nextInput <= inputCount {
            try writeMalformed(at: nextInput)
            try writeLogs(logsByInput.removeValue(forKey: nextInput) ?? [])
            nextInput += 1
        }
    }
}
