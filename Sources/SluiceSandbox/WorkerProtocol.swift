#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// Frame types of the worker protocol.
public enum FrameType {
    /// Worker → server, once at start: its pid and which confinement mechanisms are active.
    public static let hello: UInt8 = 1
    /// Server → worker: run a batch (``RunRequest``).
    public static let run: UInt8 = 2
    /// Worker → server: the batch's outcome (``RunReply``).
    public static let reply: UInt8 = 3
    /// Worker → server, every ``WorkerTiming/heartbeatInterval`` while a batch runs: still alive,
    /// and which call it is running (``CallState``).
    public static let heartbeat: UInt8 = 4
    /// Worker → server, during a batch: perform this fetch for user code (``FetchCall``).
    public static let fetch: UInt8 = 5
    /// Server → worker: the fetch's outcome (``FetchCall/encode(_:)``).
    public static let fetchResult: UInt8 = 6
    /// Worker → server, during a long batch: results finished so far (``ResultCoding``), not
    /// repeated in the reply. A worker that has to be ended loses only the call that was running.
    public static let progress: UInt8 = 7
}

/// What a busy worker is running, as its heartbeats report it: the call's sequence number (0
/// while the engine's driver works between calls) and the index of the input of the current or
/// last call in the request's batch (-1: a whole `transformBatch` call, the module's load, or
/// none yet).
public struct CallState: Sendable, Hashable {
    public var sequence: Int32
    public var inputIndex: Int

    public init(sequence: Int32, inputIndex: Int) {
        self.sequence = sequence
        self.inputIndex = inputIndex
    }

    /// No call has started.
    public static let idle = CallState(sequence: 0, inputIndex: -1)

    /// Whether user code was running (not the driver between calls).
    public var inCall: Bool { sequence != 0 }

    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: 16)
        writer.int(Int(sequence))
        writer.int(inputIndex)
        return writer.bytes
    }

    /// A heartbeat's state; an empty payload (no call information) is ``idle``.
    public init(decoding bytes: [UInt8]) throws(ProtocolError) {
        guard !bytes.isEmpty else {
            self = .idle
            return
        }
        var reader = WireReader(bytes)
        sequence = Int32(truncatingIfNeeded: try reader.int())
        inputIndex = try reader.int()
    }
}

/// A fetch a worker asks the server to perform (workers have no network), and its answer.
public enum FetchCall {
    public static func encode(_ request: FetchRequest, remainingNanoseconds: UInt64) -> [UInt8] {
        var writer = WireWriter(capacity: 256 + (request.body?.count ?? 0))
        writer.string(request.url)
        writer.string(request.method)
        writer.map(request.headers)
        writer.bool(request.body != nil)
        if let body = request.body { writer.data(body) }
        writer.int(Int(min(remainingNanoseconds, UInt64(Int.max))))
        writer.string(request.purpose.rawValue)
        return writer.bytes
    }

    public static func decodeRequest(_ bytes: [UInt8]) throws(ProtocolError) -> (request: FetchRequest, remainingNanoseconds: UInt64) {
        var reader = WireReader(bytes)
        var request = FetchRequest(url: try reader.string(), method: try reader.string())
        request.headers = try reader.map()
        if try reader.bool() { request.body = try reader.data() }
        let remaining = UInt64(max(0, try reader.int()))
        let purpose = try reader.string()
        guard let known = FetchRequest.Purpose(rawValue: purpose) else { throw ProtocolError("unknown fetch purpose \(purpose)") }
        request.purpose = known
        return (request, remaining)
    }

    public static func encode(_ result: Result<FetchResponse, FetchFailure>) -> [UInt8] {
        var writer = WireWriter()
        switch result {
        case .success(let response):
            writer.bool(true)
            writer.string(response.url)
            writer.int(response.status)
            writer.map(response.headers)
            writer.data(response.body)
        case .failure(let failure):
            writer.bool(false)
            writer.string(failure.kind)
            writer.string(failure.message)
            writer.string(failure.userMessage)
        }
        return writer.bytes
    }

    public static func decodeResult(_ bytes: [UInt8]) throws(ProtocolError) -> Result<FetchResponse, FetchFailure> {
        var reader = WireReader(bytes)
        guard try reader.bool() else {
            return .failure(FetchFailure(kind: try reader.string(), message: try reader.string(), userMessage: try reader.string()))
        }
        let url = try reader.string()
        let status = try reader.int()
        return .success(FetchResponse(url: url, status: status, headers: try reader.map(), body: try reader.data()))
    }
}

/// Timings shared by both ends.
public enum WorkerTiming {
    /// How often a busy worker says it is alive (nanoseconds).
    public static let heartbeatInterval: UInt64 = 250_000_000
}

/// One confinement mechanism and whether it is in force in a worker.
public struct Mechanism: Sendable, Hashable {
    /// `no_new_privs`, `seccomp`, `rlimit_core`, …
    public var name: String
    public var active: Bool
    /// What it blocks, or why the kernel refused it.
    public var detail: String

    public init(name: String, active: Bool, detail: String) {
        self.name = name
        self.active = active
        self.detail = detail
    }
}

/// A worker's first frame.
public struct Hello: Sendable {
    public var pid: Int32
    public var mechanisms: [Mechanism]

    public init(pid: Int32, mechanisms: [Mechanism]) {
        self.pid = pid
        self.mechanisms = mechanisms
    }

    public func encoded() -> [UInt8] {
        var writer = WireWriter()
        writer.int(Int(pid))
        writer.int(mechanisms.count)
        for mechanism in mechanisms {
            writer.string(mechanism.name)
            writer.bool(mechanism.active)
            writer.string(mechanism.detail)
        }
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(ProtocolError) {
        var reader = WireReader(bytes)
        pid = Int32(truncatingIfNeeded: try reader.int())
        let count = try reader.count(minimumSize: 17)
        mechanisms = []
        for _ in 0..<count {
            mechanisms.append(Mechanism(name: try reader.string(), active: try reader.bool(), detail: try reader.string()))
        }
    }
}

/// Server → worker: run `batch` through program `programID` under `limits`; `program` carries
/// the code when the server believes the worker does not have it.
public struct RunRequest: Sendable {
    public var programID: String
    public var program: Program?
    public var limits: Limits
    public var batch: Batch
    /// How often the worker sends finished results while the batch runs (``FrameType/progress``):
    /// at most every this many nanoseconds, 0 after every call (the re-run after a lost worker,
    /// which must know exactly which call was running). Default 20 ms.
    public var progressInterval: UInt64 = 20_000_000

    public init(programID: String, program: Program?, limits: Limits, batch: Batch) {
        self.programID = programID
        self.program = program
        self.limits = limits
        self.batch = batch
    }

    public func encoded() -> [UInt8] {
        var writer = WireWriter(capacity: batch.items.reduce(256) { $0 + $1.count + 8 } + (program.map { $0.source.code.utf8.count } ?? 0))
        writer.string(programID)
        writer.bool(program != nil)
        if let program {
            writer.bool(program.ephemeral)
            writer.string(program.source.name)
            writer.string(program.source.language.rawValue)
            writer.string(program.source.fileName)
            writer.string(program.source.code)
            writer.string(program.source.codeVersion.rawValue)
            writer.int(program.libraries.count)
            for library in program.libraries {
                writer.string(library.importName)
                writer.string(library.language.rawValue)
                writer.string(library.fileName)
                writer.string(library.code)
            }
            writer.int(program.libraryPlaces.count)
            for place in program.libraryPlaces { writer.string(place) }
        }
        writer.int(limits.timeMilliseconds)
        writer.int(limits.memoryMegabytes)
        writer.int(batch.items.count)
        for item in batch.items { writer.data(item) }
        writer.map(batch.credentials.mapValues(\.json))
        writer.int(batch.eventCredentials.count)
        for (index, credentials) in batch.eventCredentials.sorted(by: { $0.key < $1.key }) {
            writer.int(index)
            writer.map(credentials.mapValues(\.json))
        }
        writer.bool(batch.determinism != nil)
        if let determinism = batch.determinism {
            writer.int(Int(determinism.now))
            writer.int(Int(determinism.seed))
        }
        writer.optionalString(batch.fetchMocks)
        writer.int(batch.fetchCallsPerInvocation)
        writer.int(Int(clamping: progressInterval))
        writer.bool(batch.measuresEventTimes)
        return writer.bytes
    }

    public init(decoding bytes: [UInt8]) throws(ProtocolError) {
        var reader = WireReader(bytes)
        programID = try reader.string()
        if try reader.bool() {
            let ephemeral = try reader.bool()
            func language(_ name: String) throws(ProtocolError) -> Language {
                guard let language = Language(name: name) else { throw ProtocolError("unknown language \(name)") }
                return language
            }
            var source = TransformationSource(name: try reader.string(), language: try language(try reader.string()),
                                              fileName: try reader.string(), code: try reader.string())
            let codeVersion = try reader.string()
            guard let known = CodeVersion(rawValue: codeVersion) else { throw ProtocolError("unknown code version \(codeVersion)") }
            source.codeVersion = known
            let count = try reader.count(minimumSize: 32)
            var libraries: [LibrarySource] = []
            for _ in 0..<count {
                libraries.append(LibrarySource(importName: try reader.string(), language: try language(try reader.string()),
                                               fileName: try reader.string(), code: try reader.string()))
            }
            var places: [String] = []
            for _ in 0..<(try reader.count(minimumSize: 8)) { places.append(try reader.string()) }
            var decoded = Program(id: programID, source: source, libraries: libraries, ephemeral: ephemeral)
            decoded.libraryPlaces = places
            program = decoded
        } else {
            program = nil
        }
        limits = Limits(timeMilliseconds: try reader.int(), memoryMegabytes: try reader.int())
        let count = try reader.count(minimumSize: 8)
        var items: [JSONText] = []
        items.reserveCapacity(count)
        for _ in 0..<count { items.append(try reader.data()) }
        var batch = Batch(items: items, credentials: try reader.map().mapValues { CredentialValue(json: $0) })
        let perEvent = try reader.count(minimumSize: 16)
        for _ in 0..<perEvent {
            let index = try reader.int()
            batch.eventCredentials[index] = try reader.map().mapValues { CredentialValue(json: $0) }
        }
        if try reader.bool() {
            batch.determinism = Determinism(now: Int64(try reader.int()), seed: UInt32(truncatingIfNeeded: try reader.int()))
        }
        batch.fetchMocks = try reader.optionalString()
        batch.fetchCallsPerInvocation = try reader.int()
        progressInterval = UInt64(max(0, try reader.int()))
        batch.measuresEventTimes = try reader.bool()
        self.batch = batch
    }
}

/// What a worker's compiled-code cache did for one request (the server's metrics count it,
/// as the in-process executor reports it directly).
public struct CompileReport: Sendable, Hashable {
    /// The cache lookup: true a hit, false a miss, nil none (a program not cached, or no code ran).
    public var cacheHit: Bool?
    /// How long compiling took, when the program was compiled for this request.
    public var compileNanoseconds: Int?
    /// Whether that compile failed.
    public var compileFailed = false
    /// Programs evicted to make room.
    public var evictions = 0

    public init(cacheHit: Bool? = nil, compileNanoseconds: Int? = nil, compileFailed: Bool = false, evictions: Int = 0) {
        self.cacheHit = cacheHit
        self.compileNanoseconds = compileNanoseconds
        self.compileFailed = compileFailed
        self.evictions = evictions
    }

    /// Nothing to report.
    public var isEmpty: Bool { cacheHit == nil && compileNanoseconds == nil && evictions == 0 }

    func encode(into writer: inout WireWriter) {
        writer.byte(cacheHit == nil ? 0 : cacheHit! ? 1 : 2)
        writer.int(compileNanoseconds ?? -1)
        writer.bool(compileFailed)
        writer.int(evictions)
    }

    init(decoding reader: inout WireReader) throws(ProtocolError) {
        switch try reader.byte() {
        case 0: cacheHit = nil
        case 1: cacheHit = true
        case 2: cacheHit = false
        default: throw ProtocolError("bad cache lookup")
        }
        let nanoseconds = try reader.int()
        compileNanoseconds = nanoseconds < 0 ? nil : nanoseconds
        compileFailed = try reader.bool()
        evictions = max(0, try reader.int())
    }
}

/// Worker → server: how a run ended.
public enum RunReply: Sendable {
    /// The batch ran: every input has its results (those not already sent as progress).
    case ran(BatchResult)
    /// The program does not compile (or link); every event of the batch fails with this message.
    case compileFailed(String)
    /// The worker does not have the program (the server's view of its cache was stale): send
    /// the request again with the code.
    case needsCode

    /// The reply with the worker's resident memory and, when `tainted` says why, the worker's
    /// request to be replaced after this batch (its code changed state other tenants share).
    /// Results carry no metadata: the server attaches each input's own. `compile` says what the
    /// worker's compiled-code cache did.
    public func encoded(residentBytes: Int, tainted: String? = nil, compile: CompileReport = CompileReport()) -> [UInt8] {
        var capacity = 64
        if case .ran(let result) = self { capacity += ResultCoding.capacity(of: result) }
        var writer = WireWriter(capacity: capacity)
        writer.int(residentBytes)
        writer.optionalString(tainted)
        compile.encode(into: &writer)
        switch self {
        case .ran(let result):
            writer.byte(0)
            ResultCoding.encode(result, into: &writer)
        case .compileFailed(let message):
            writer.byte(1)
            writer.string(message)
        case .needsCode:
            writer.byte(2)
        }
        return writer.bytes
    }

    /// The reply, the worker's resident memory after the batch, and why it must be replaced, if it
    /// must. Each result of input `i` gets `metadata[i]` (the request's ``Batch/itemMetadata``).
    public static func decode(_ bytes: [UInt8], metadata: [JSONText] = [])
        throws(ProtocolError) -> (reply: RunReply, residentBytes: Int, tainted: String?, compile: CompileReport) {
        var reader = WireReader(bytes)
        let resident = try reader.int()
        let tainted = try reader.optionalString()
        let compile = try CompileReport(decoding: &reader)
        switch try reader.byte() {
        case 0:
            return (.ran(try ResultCoding.decode(&reader, metadata: metadata)), resident, tainted, compile)
        case 1:
            return (.compileFailed(try reader.string()), resident, tainted, compile)
        case 2:
            return (.needsCode, resident, tainted, compile)
        default:
            throw ProtocolError("bad reply kind")
        }
    }
}

/// The wire form of results, logs and unmocked requests (a reply's, or a progress frame's).
public enum ResultCoding {
    /// Bytes the encoded `result` needs, about.
    static func capacity(of result: BatchResult) -> Int {
        var capacity = 32
        for eventResult in result.results {
            capacity += 32
            if case .output(let json) = eventResult.outcome { capacity += json.count }
        }
        return capacity + result.logs.reduce(0) { $0 + $1.text.utf8.count + 64 }
    }

    public static func encode(_ result: BatchResult, into writer: inout WireWriter) {
        writer.int(result.results.count)
        for eventResult in result.results {
            writer.int(eventResult.inputIndex ?? -1)
            switch eventResult.outcome {
            case .output(let json):
                writer.byte(0)
                writer.data(json)
            case .dropped:
                writer.byte(1)
            case .failed(let failure):
                writer.byte(failure.coversBatch ? 3 : 2)
                writer.string(failure.kind.name)
                writer.string(failure.message)
            }
        }
        writer.int(result.logs.count)
        for line in result.logs {
            writer.int(line.inputIndex ?? -1)
            writer.optionalString(line.messageId)
            writer.string(line.text)
        }
        writer.int(result.unmockedRequests.count)
        for request in result.unmockedRequests { writer.string(request) }
        // Per-input call times (``Batch/measuresEventTimes``; none in progress frames).
        writer.int(result.eventNanoseconds.count)
        for nanoseconds in result.eventNanoseconds { writer.int(Int(clamping: nanoseconds)) }
    }

    /// Reads what ``encode(_:into:)`` wrote; a result of input `i` gets `metadata[i]` (`{}`
    /// for none; an index outside the batch is a protocol error).
    public static func decode(_ reader: inout WireReader, metadata: [JSONText]) throws(ProtocolError) -> BatchResult {
        let count = try reader.count(minimumSize: 9)
        var results: [EventResult] = []
        results.reserveCapacity(count)
        let unmatched: JSONText = Array("{}".utf8)
        for _ in 0..<count {
            let index = try reader.int()
            let outcome: Outcome
            switch try reader.byte() {
            case 0: outcome = .output(try reader.data())
            case 1: outcome = .dropped
            case 2: outcome = .failed(Failure(FailureKind.named(try reader.string()), try reader.string()))
            case 3: outcome = .failed(Failure(FailureKind.named(try reader.string()), try reader.string(), coversBatch: true))
            default: throw ProtocolError("bad outcome")
            }
            guard index >= -1, metadata.isEmpty || index < metadata.count else {
                throw ProtocolError("result for input \(index) of a batch of \(metadata.count)")
            }
            let text = index >= 0 && index < metadata.count ? metadata[index] : unmatched
            results.append(EventResult(inputIndex: index < 0 ? nil : index, outcome: outcome, metadata: text))
        }
        let logCount = try reader.count(minimumSize: 17)
        var logs: [LogLine] = []
        for _ in 0..<logCount {
            let index = try reader.int()
            logs.append(LogLine(inputIndex: index < 0 ? nil : index, messageId: try reader.optionalString(), text: try reader.string()))
        }
        let unmockedCount = try reader.count(minimumSize: 8)
        var unmocked: [String] = []
        for _ in 0..<unmockedCount { unmocked.append(try reader.string()) }
        var result = BatchResult(results: results, logs: logs, unmockedRequests: unmocked)
        let timed = try reader.count(minimumSize: 8)
        guard metadata.isEmpty || timed == 0 || timed == metadata.count else {
            throw ProtocolError("call times for \(timed) inputs of a batch of \(metadata.count)")
        }
        for _ in 0..<timed { result.eventNanoseconds.append(UInt64(max(0, try reader.int()))) }
        return result
    }
}
