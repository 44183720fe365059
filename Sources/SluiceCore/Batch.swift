#if canImport(Glibc)
import Glibc
#endif

/// JSON text as UTF-8 bytes. Events stay in this form from the edge until the engine parses
/// them, and results come back in it: Sluice never decodes and re-encodes an event in Swift.
public typealias JSONText = [UInt8]

/// Whether `bytes` contains `byte` (memchr speed; JSON items are checked for separator bytes).
public func containsByte(_ bytes: [UInt8], _ byte: UInt8) -> Bool {
    bytes.withUnsafeBytes { buffer in
        guard let base = buffer.baseAddress, buffer.count > 0 else { return false }
        return memchr(base, Int32(byte), buffer.count) != nil
    }
}

/// One request's worth of events for one transformation version.
///
/// Every call of the user function within a batch sees the same freshly evaluated module
/// instance; the next batch gets a new one (CONTRACT.md §1: module state does not survive a
/// request).
public struct Batch: Sendable {
    /// The inputs, each the JSON text of either a `{"message": {...}, "metadata": {...}}`
    /// envelope or a bare message. An object is an envelope when it has a `message` object and
    /// no keys besides `message`, `metadata`, `destination`, `libraries` and `credentials`.
    public var items: [JSONText]
    /// Values for `getCredential(key)`, with their JSON types: the request's (in
    /// `/customTransform`, the group's first event that carries any).
    public var credentials: [String: CredentialValue]
    /// Credentials of single events, by index into ``items``: while an event's call runs,
    /// `getCredential` reads its own credentials when it carries them, else ``credentials``.
    public var eventCredentials: [Int: [String: CredentialValue]] = [:]
    /// When set (test and replay runs), clocks and random numbers are fixed for the batch.
    public var determinism: Determinism?
    /// When set (test runs), `fetch` and `fetchV2` answer from these mocks and nothing else: a
    /// JSON object of URL → `{"status": 200, "headers": {…}, "body": …}`. Unmocked calls fail
    /// and are reported in ``BatchResult/unmockedRequests``.
    public var fetchMocks: String?
    /// Performs real `fetch`/`fetchV2` calls when there are no mocks (the service: through the
    /// egress guard); nil: they fail with a message saying fetch is not available in this run.
    public var fetch: FetchHandler?
    /// Fetches one invocation may make (default 20).
    public var fetchCallsPerInvocation = 20
    /// The metadata text of each item (the service's envelopes, split at the edge); nil: the
    /// engine reads it from each item's text (``ItemMetadata``). Results carry this text, never
    /// what user code made of the object `metadata(event)` returned.
    public var metadataTexts: [JSONText]?
    /// False in a worker process: the server attaches every result's metadata itself, so the
    /// worker neither reads nor sends it (results then carry empty metadata).
    public var attachesMetadata = true
    /// Receives the batch's finished results while it runs (worker processes stream them to the
    /// server, so a worker that has to be ended loses only the call that was running). Called on
    /// the engine's thread, between calls, at most every ``progressInterval`` and only once the
    /// batch has run that long; results and logs handed to it are not repeated in the final
    /// ``BatchResult``. Nil: everything comes in the final result.
    public var progress: ProgressHandler?
    /// How often ``progress`` is called at most (default 20 ms): a batch that finishes sooner
    /// never reports progress, so fast batches pay nothing for it.
    public var progressInterval: UInt64 = 20_000_000
    /// When set (`sluice bench`), the engine measures the time of each input's call into
    /// ``BatchResult/eventNanoseconds`` (worker processes measure it too and send it with their reply:
    /// Studio shows each event's time).
    public var measuresEventTimes = false

    /// When set (`sluice bench`), an in-process engine reports where the batch's time went, phase
    /// by phase, in ``BatchResult/phases``. Not sent to worker processes.
    public var measuresPhases = false

    public init(items: [JSONText], credentials: [String: CredentialValue] = [:], determinism: Determinism? = nil, fetchMocks: String? = nil) {
        self.items = items
        self.credentials = credentials
        self.determinism = determinism
        self.fetchMocks = fetchMocks
    }

    /// A batch whose credentials are all strings.
    public init(items: [JSONText], credentials: [String: String], determinism: Determinism? = nil, fetchMocks: String? = nil) {
        self.init(items: items, credentials: credentials.mapValues { CredentialValue($0) }, determinism: determinism, fetchMocks: fetchMocks)
    }

    /// The credentials for the engines' drivers, or "" when there are none: a JSON object of the
    /// request's keys and values, plus, when single events carry their own, the member `"\u0000"`
    /// mapping each such event's index to its object (a key no credential can clash with).
    public var credentialsJSON: String {
        guard !credentials.isEmpty || !eventCredentials.isEmpty else { return "" }
        var members = credentials.sorted { $0.key < $1.key }.map { JSONString.encode($0.key) + ":" + $0.value.json }
        if !eventCredentials.isEmpty {
            members.append(#""\u0000":{"# + eventCredentials.sorted { $0.key < $1.key }
                .map { "\"\($0.key)\":" + CredentialValue.object($0.value) }.joined(separator: ",") + "}")
        }
        return "{" + members.joined(separator: ",") + "}"
    }

    /// The metadata text results of item `i` carry, per item (empty when ``attachesMetadata``
    /// is false).
    public var itemMetadata: [JSONText] {
        guard attachesMetadata else { return [] }
        return metadataTexts ?? ItemMetadata.texts(of: items)
    }

    /// Every credential value of the batch (the request's and the events'), for redaction.
    public var credentialValues: [String] {
        (Array(credentials.values) + eventCredentials.values.flatMap(\.values)).map(\.text)
    }
}

/// Receives a running batch's finished results (see ``Batch/progress``).
public typealias ProgressHandler = @Sendable (BatchResult) -> Void

/// What a batch produced: results in input order, and the captured `log(...)` lines.
public struct BatchResult: Sendable {
    /// One or more results per input, ordered by ``EventResult/inputIndex``; outputs of a split
    /// event keep the order the function returned them in. For `transformBatch`, outputs come in
    /// the order the function returned them and carry the index of the input they belong to.
    public var results: [EventResult]
    /// Lines logged with `log(...)`, in the order they were logged.
    public var logs: [LogLine]
    /// Requests made with `fetch`/`fetchV2` that no mock answered (`GET https://…`), in a run
    /// with ``Batch/fetchMocks``.
    public var unmockedRequests: [String]

    /// Events whose call forced the worker process running it to be ended (past its time limit
    /// in code that cannot be interrupted in-process, or a crash that repeated); each has its
    /// terminal failure among ``results``. Counted by the circuit breaker.
    public var workerEndings: Int = 0

    /// With ``Batch/measuresEventTimes``: per input, the wall-clock time its call took in the
    /// engine — the user function, its promise jobs and serialising its result — in nanoseconds
    /// (a `transformBatch` call's time is shared evenly among its inputs). Empty otherwise.
    public var eventNanoseconds: [UInt64] = []

    /// With ``Batch/measuresPhases`` (in-process engines): where the batch's time went, in the
    /// order the phases first ran. Empty otherwise.
    public var phases: [PhaseTime] = []

    public init(results: [EventResult], logs: [LogLine], unmockedRequests: [String] = []) {
        self.results = results
        self.logs = logs
        self.unmockedRequests = unmockedRequests
    }
}

/// One result: an output, a drop or a failure, with the metadata that goes with it.
public struct EventResult: Sendable {
    /// Index into ``Batch/items`` of the input this result belongs to; nil for a
    /// `transformBatch` output whose `messageId` matches no input.
    public var inputIndex: Int?
    public var outcome: Outcome
    /// The metadata JSON object of the input (or `{}`), as JSON text.
    public var metadata: JSONText

    public init(inputIndex: Int?, outcome: Outcome, metadata: JSONText) {
        self.inputIndex = inputIndex
        self.outcome = outcome
        self.metadata = metadata
    }
}

/// How one call ended for one event. The same vocabulary appears in the CLI output, the HTTP
/// responses, the logs and the metrics.
public enum Outcome: Sendable {
    /// The function returned this event (JSON object text).
    case output(JSONText)
    /// The function returned `null`/`undefined`/`None`: the event is dropped.
    case dropped
    /// The call failed for this event.
    case failed(Failure)

    /// A stable, dotted-key friendly name: `output`, `dropped`, or the failure's kind.
    public var name: String {
        switch self {
        case .output: "output"
        case .dropped: "dropped"
        case .failed(let failure): failure.kind.name
        }
    }
}

/// A line captured from `log(...)`.
public struct LogLine: Sendable, Hashable {
    /// The input whose call logged it, when known.
    public var inputIndex: Int?
    /// The `messageId` of that input's event, when it has one.
    public var messageId: String?
    public var text: String

    public init(inputIndex: Int?, messageId: String?, text: String) {
        self.inputIndex = inputIndex
        self.messageId = messageId
        self.text = text
    }
}

/// Fixed clocks and seeded randomness, so snapshot and replay runs never flake.
///
/// JavaScript: `Date.now()` and `new Date()` give ``now``; `Math.random()` is a PRNG seeded with
/// ``seed``. Python: `time.time()` (and `time_ns`, `monotonic`, `perf_counter`),
/// `datetime.now()`/`utcnow()`/`today()` (as UTC) give ``now``; `random`'s functions and
/// `uuid.uuid4()` draw from a generator seeded with ``seed``. The sequence restarts with every
/// batch.
public struct Determinism: Sendable, Hashable, Codable {
    /// Milliseconds since 1970-01-01T00:00:00Z.
    public var now: Int64
    public var seed: UInt32

    /// 2026-01-01T00:00:00Z, seed 1: the defaults of `sluice test`.
    public static let testDefaults = Determinism(now: 1_767_225_600_000, seed: 1)

    public init(now: Int64, seed: UInt32) {
        self.now = now
        self.seed = seed
    }

    /// `{"now":…,"seed":…}` for the engines' drivers.
    public var json: String { "{\"now\":\(now),\"seed\":\(seed)}" }
}
