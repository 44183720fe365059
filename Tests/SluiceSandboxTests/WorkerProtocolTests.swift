#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceSandbox
import Testing

/// The worker protocol's frames: what the server sends decodes to what it meant, and a short or
/// corrupt frame is an error, never a crash.
@Suite struct WorkerProtocolTests {
    @Test func aRunRequestWithCodeCredentialsAndDeterminismRoundTrips() throws {
        var batch = Batch(items: [Array(#"{"message":{"a":1},"metadata":{}}"#.utf8), Array("{}".utf8)], credentials: ["key": "request"])
        batch.credentials["retries"] = CredentialValue(json: #"{"max": 3}"#)
        batch.eventCredentials[1] = ["key": "own", "other": "x"]
        batch.determinism = Determinism(now: 1_767_225_600_000, seed: 7)
        batch.fetchMocks = #"{"https://a.example/":{"status":200}}"#
        let program = Program(
            id: "sv123", source: TransformationSource(name: "t", language: .python, fileName: "t.py", code: "def transformEvent(e, m):\n    return e\n"),
            libraries: [LibrarySource(importName: "hashing", language: .python, fileName: "hashing.py", code: "x = 1\n")], ephemeral: true)
        var withPlaces = program
        withPlaces.libraryPlaces = ["/work/p/libraries", "the /v1 API's live libraries"]
        #expect(try RunRequest(decoding: RunRequest(programID: "sv123", program: withPlaces, limits: .defaults, batch: batch).encoded())
            .program?.libraryPlaces == withPlaces.libraryPlaces)
        let request = RunRequest(programID: "sv123", program: program, limits: Limits(timeMilliseconds: 250, memoryMegabytes: 32), batch: batch)
        let decoded = try RunRequest(decoding: request.encoded())
        #expect(decoded.programID == "sv123")
        #expect(decoded.program?.source == program.source)
        #expect(decoded.program?.libraries == program.libraries)
        #expect(decoded.program?.ephemeral == true)
        #expect(decoded.limits == request.limits)
        #expect(decoded.batch.items == batch.items)
        #expect(decoded.batch.credentials == ["key": "request", "retries": CredentialValue(json: #"{"max": 3}"#)])
        #expect(decoded.program?.libraryPlaces == [])
        #expect(decoded.batch.eventCredentials == [1: ["key": "own", "other": "x"]])
        #expect(decoded.batch.determinism == batch.determinism)
        #expect(decoded.batch.fetchMocks == batch.fetchMocks)

        let withoutCode = try RunRequest(decoding: RunRequest(programID: "sv123", program: nil, limits: .defaults, batch: Batch(items: [])).encoded())
        #expect(withoutCode.program == nil && withoutCode.batch.items.isEmpty && withoutCode.batch.determinism == nil)
    }

    @Test func everyOutcomeOfAReplyRoundTrips() throws {
        let result = BatchResult(
            results: [
                EventResult(inputIndex: 0, outcome: .output(Array(#"{"a":1}"#.utf8)), metadata: Array(#"{"messageId":"m"}"#.utf8)),
                EventResult(inputIndex: 1, outcome: .dropped, metadata: Array("{}".utf8)),
                EventResult(inputIndex: 2, outcome: .failed(Failure(.timeLimit, "time limit of 5 ms exceeded")), metadata: Array("{}".utf8)),
                EventResult(inputIndex: nil, outcome: .output(Array("{}".utf8)), metadata: Array("{}".utf8)),
            ],
            logs: [LogLine(inputIndex: 0, messageId: "m", text: "hello"), LogLine(inputIndex: nil, messageId: nil, text: "top")],
            unmockedRequests: ["GET https://b.example/"])
        let metadata = [Array(#"{"messageId":"m"}"#.utf8), Array("{}".utf8), Array("{}".utf8)]
        let decoded = try RunReply.decode(RunReply.ran(result).encoded(residentBytes: 123_456), metadata: metadata)
        #expect(decoded.residentBytes == 123_456 && decoded.tainted == nil)
        guard case .ran(let back) = decoded.reply else {
            Issue.record("expected a ran reply, got \(decoded.reply)")
            return
        }
        #expect(back.results.map(\.inputIndex) == [0, 1, 2, nil])
        #expect(back.results.map(\.outcome.name) == ["output", "dropped", "time_limit", "output"])
        if case .failed(let failure) = back.results[2].outcome { #expect(failure.message == "time limit of 5 ms exceeded") }
        #expect(back.results[0].metadata == Array(#"{"messageId":"m"}"#.utf8))
        #expect(back.logs == result.logs)
        #expect(back.unmockedRequests == ["GET https://b.example/"])

        let failed = try RunReply.decode(RunReply.compileFailed("SyntaxError at t.js:1:2").encoded(residentBytes: 1, tainted: "json.dumps replaced"))
        guard case .compileFailed("SyntaxError at t.js:1:2") = failed.reply else {
            Issue.record("expected compileFailed, got \(failed.reply)")
            return
        }
        #expect(failed.tainted == "json.dumps replaced")
        guard case .needsCode = try RunReply.decode(RunReply.needsCode.encoded(residentBytes: 0)).reply else {
            Issue.record("expected needsCode")
            return
        }
    }

    @Test func resultsCarryTheServersMetadataNeverTheWorkers() throws {
        let metadata = [Array(#"{"messageId":"m1","sourceId":"s"}"#.utf8), Array("{}".utf8)]
        let forged = Array(#"{"messageId":"m1","sourceId":"forged"}"#.utf8)
        let result = BatchResult(results: [
            EventResult(inputIndex: 0, outcome: .output(Array(#"{"a":1}"#.utf8)), metadata: forged),
            EventResult(inputIndex: 1, outcome: .dropped, metadata: forged),
            EventResult(inputIndex: nil, outcome: .output(Array("{}".utf8)), metadata: forged),
        ], logs: [])
        let bytes = RunReply.ran(result).encoded(residentBytes: 1)
        // Metadata does not cross the channel at all.
        #expect(!bytes.containsSequence(forged))
        guard case .ran(let back) = try RunReply.decode(bytes, metadata: metadata).reply else {
            Issue.record("expected a ran reply")
            return
        }
        #expect(back.results.map(\.metadata) == [metadata[0], metadata[1], Array("{}".utf8)])
        // A result for an input the batch does not have is a protocol error.
        #expect(throws: ProtocolError.self) { try RunReply.decode(bytes, metadata: [metadata[0]]) }
    }

    @Test func aShortOrCorruptFrameIsAnError() {
        let encoded = RunRequest(programID: "x", program: nil, limits: .defaults, batch: Batch(items: [Array("{}".utf8)])).encoded()
        for length in [0, 1, 8, encoded.count / 2, encoded.count - 1] {
            #expect(throws: ProtocolError.self) { try RunRequest(decoding: Array(encoded.prefix(length))) }
        }
        // A count that promises more items than the frame holds.
        var lying = WireWriter()
        lying.string("x")
        lying.bool(false)
        lying.int(1)
        lying.int(1)
        lying.int(Int.max)
        #expect(throws: ProtocolError.self) { try RunRequest(decoding: lying.bytes) }
        #expect(throws: ProtocolError.self) { try RunReply.decode([1, 2, 3]) }
        #expect(throws: ProtocolError.self) { try Hello(decoding: []) }
    }

    @Test func aHelloCarriesTheConfinementReport() throws {
        let hello = Hello(pid: 42, mechanisms: [Mechanism(name: "seccomp", active: true, detail: "refuses"),
                                                Mechanism(name: "rlimit_as", active: false, detail: "not applied")])
        let decoded = try Hello(decoding: hello.encoded())
        #expect(decoded.pid == 42 && decoded.mechanisms == hello.mechanisms)
    }

    @Test func framesCrossASocketAndAReadHasADeadline() throws {
        var pair: [Int32] = [-1, -1]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0)
        _ = fcntl(pair[0], F_SETFL, fcntl(pair[0], F_GETFL) | O_NONBLOCK)
        let server = FrameChannel(descriptor: pair[0])
        let worker = FrameChannel(descriptor: pair[1])
        defer {
            server.close()
            worker.close()
        }
        // Larger than a socket buffer: the write blocks until the other side reads.
        let large = [UInt8](repeating: 7, count: 3 << 20)
        let sender = Thread { try? worker.send(type: FrameType.reply, payload: large) }
        sender.start()
        let frame = try server.receive(deadline: monotonicNanoseconds() + 5_000_000_000)
        #expect(frame.type == FrameType.reply && frame.payload == large)
        sender.join()

        let start = monotonicNanoseconds()
        #expect(throws: FrameChannel.Failure.self) { try server.receive(deadline: start + 50_000_000) }
        #expect(monotonicNanoseconds() - start < 1_000_000_000)

        worker.close()
        do {
            _ = try server.receive(deadline: monotonicNanoseconds() + 1_000_000_000)
            Issue.record("a closed peer must end the read")
        } catch {
            guard case .closed = error else {
                Issue.record("expected closed, got \(error)")
                return
            }
        }
    }

    @Test func restartsBackOffAfterTheSecondQuickDeathFromATenthOfASecondToFiveSeconds() {
        #expect(WorkerPool.backoff(0) == 0)
        #expect(WorkerPool.backoff(1) == 0)
        #expect(WorkerPool.backoff(2) == 100_000_000)
        #expect(WorkerPool.backoff(3) == 200_000_000)
        #expect(WorkerPool.backoff(5) == 800_000_000)
        #expect(WorkerPool.backoff(8) == 5_000_000_000)
        #expect(WorkerPool.backoff(50) == 5_000_000_000)
    }
}

/// A thread with join (the frame test needs a writer blocked on a full socket).
private final class Thread: Sendable {
    private let body: @Sendable () -> Void
    private let finished = BoundedQueue<Void>(capacity: 1)

    init(_ body: @escaping @Sendable () -> Void) { self.body = body }

    func start() {
        startThread { [self] in
            body()
            finished.push(())
        }
    }

    func join() { finished.pop() }
}

extension Array where Element == UInt8 {
    func containsSequence(_ needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { self[$0..<($0 + needle.count)].elementsEqual(needle) }
    }
}

/// A worker reports what its compiled-code cache did in each reply, so the server can count it.
@Suite struct CompileReportTests {
    @Test func theReportTravelsWithEveryReplyKind() throws {
        let report = CompileReport(cacheHit: false, compileNanoseconds: 1_234_567, compileFailed: true, evictions: 3)
        let failed = try RunReply.decode(RunReply.compileFailed("SyntaxError").encoded(residentBytes: 1, compile: report))
        #expect(failed.compile == report)
        let ran = try RunReply.decode(RunReply.ran(BatchResult(results: [], logs: [])).encoded(residentBytes: 1, compile: CompileReport(cacheHit: true)))
        #expect(ran.compile == CompileReport(cacheHit: true) && !ran.compile.isEmpty)
        let none = try RunReply.decode(RunReply.needsCode.encoded(residentBytes: 0))
        #expect(none.compile.isEmpty)
    }
}

/// Per-call times cross the process boundary only when asked for (Studio asks; the data plane does not).
@Suite struct WorkerCallTimesTests {
    @Test func aRequestAsksForCallTimesAndAReplyCarriesThemForEveryInput() throws {
        var batch = Batch(items: [Array("{}".utf8), Array("{}".utf8)])
        #expect(try RunRequest(decoding: RunRequest(programID: "sv1", program: nil, limits: .defaults, batch: batch).encoded()).batch.measuresEventTimes == false)
        batch.measuresEventTimes = true
        #expect(try RunRequest(decoding: RunRequest(programID: "sv1", program: nil, limits: .defaults, batch: batch).encoded()).batch.measuresEventTimes == true)

        var result = BatchResult(results: [EventResult(inputIndex: 0, outcome: .dropped, metadata: []), EventResult(inputIndex: 1, outcome: .dropped, metadata: [])],
                                 logs: [])
        result.eventNanoseconds = [1_500_000, 42]
        let metadata = [Array("{}".utf8), Array("{}".utf8)]
        guard case .ran(let back) = try RunReply.decode(RunReply.ran(result).encoded(residentBytes: 1), metadata: metadata).reply else {
            Issue.record("expected a ran reply")
            return
        }
        #expect(back.eventNanoseconds == [1_500_000, 42])
        // Times for a different number of inputs than the batch has are a protocol error.
        result.eventNanoseconds = [7]
        #expect(throws: ProtocolError.self) { try RunReply.decode(RunReply.ran(result).encoded(residentBytes: 1), metadata: metadata) }
    }
}
