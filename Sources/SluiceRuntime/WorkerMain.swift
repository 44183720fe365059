#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluicePython
import SluiceSandbox

/// The body of `sluice worker`: a child of `sluice serve` that runs user code for it.
///
/// In order (it starts with stdio and the channel only: the server's spawn closed the rest): start both engines and load what user code may later
/// need (the standard-library modules Python transformations may import, the resident-memory
/// reader); confine itself (``Confinement/apply(maximumDescriptors:)``); say hello with the
/// confinement report; then answer ``RunRequest`` frames on descriptor 3 until the server closes
/// it. Compiled programs are kept in an LRU cache; a request for a program the worker does not
/// have gets ``RunReply/needsCode``.
public enum WorkerMain {
    public static func run(cacheLimits: CacheLimits = CacheLimits()) -> Int32 {
        let channel = FrameChannel(descriptor: Confinement.channelDescriptor)
        // Here a call past its limit in code the engine cannot interrupt costs only this process,
        // and its event gets the same time-limit error: end it soon after the limit (a call the
        // engine would have stopped a little later, on a starved CPU, gets the same error).
        // 50 ms of the engine thread's CPU time past the limit (five of JavaScriptCore's watchdog
        // ticks; Python's deadline signal comes within 5 ms), at most 1 s of wall-clock time.
        EngineMonitor.cpuGrace = 50_000_000
        EngineMonitor.grace = 1_000_000_000
        EngineMonitor.stuckHandler = { stuck in
            // The server learns the state from heartbeats, which may not have reported this call
            // yet (they come every 250 ms; a call is ended here ~60 ms past its limit): the last frame
            // before the end names the call, so the server condemns that input and no other.
            try? channel.send(type: FrameType.heartbeat, payload: CallState(sequence: stuck.sequence, inputIndex: stuck.inputIndex).encoded())
            let text = stuck.message + "; ending worker process \(getpid()): that event gets its time-limit error and the batch goes on without it.\n"
            _ = text.withCString { write(2, $0, strlen($0)) }
            _exit(EngineMonitor.exitStatus)
        }
        let runtime = Runtime(libraries: NoLibraries())
        if let problem = warmUp(runtime) {
            report("sluice worker \(getpid()): could not start: \(problem)")
            return 1
        }
        // Before the filter: the watch thread must exist before anything could stop it starting.
        let watch = ServerWatch.start(descriptor: Confinement.channelDescriptor)
        let mechanisms = [watch] + Confinement.apply()
        for mechanism in mechanisms where !mechanism.active && ["seccomp", "no_new_privs"].contains(mechanism.name) {
            report("sluice worker \(getpid()): \(mechanism.name) is NOT active: \(mechanism.detail)")
        }
        do {
            try channel.send(type: FrameType.hello, payload: Hello(pid: getpid(), mechanisms: mechanisms).encoded())
        } catch {
            return 1
        }
        let heartbeat = Heartbeat(channel: channel)
        heartbeat.start()
        let cache = CompiledCache<Result<any CompiledTransformation, CompileError>>(limits: cacheLimits)
        while true {
            let frame: (type: UInt8, payload: [UInt8])
            do {
                frame = try channel.receive()
            } catch {
                return 0  // the server closed the channel (or left): nothing more to do
            }
            guard frame.type == FrameType.run else {
                report("sluice worker \(getpid()): unexpected frame \(frame.type)")
                return 1
            }
            var request: RunRequest
            do {
                request = try RunRequest(decoding: frame.payload)
            } catch {
                report("sluice worker \(getpid()): malformed request: \(error)")
                return 1
            }
            // Fetches go to the server, which performs them behind the egress guard; the engine
            // thread waits for the answer on the channel (the main thread is waiting for the engine).
            request.batch.fetch = { fetchRequest, remaining in
                do {
                    try channel.send(type: FrameType.fetch, payload: FetchCall.encode(fetchRequest, remainingNanoseconds: remaining))
                    let answer = try channel.receive()
                    guard answer.type == FrameType.fetchResult else {
                        return .failure(FetchFailure(kind: "network", message: "fetch: unexpected answer from the server"))
                    }
                    return try FetchCall.decodeResult(answer.payload)
                } catch {
                    return .failure(FetchFailure(kind: "network", message: "fetch: the server did not answer (\(error))"))
                }
            }
            // The server attaches every result's metadata from its own copy of the inputs.
            request.batch.attachesMetadata = false
            // Finished results stream to the server while a long batch runs, so a worker that has
            // to be ended loses only the call that was running.
            request.batch.progressInterval = request.progressInterval
            request.batch.progress = { chunk in
                var writer = WireWriter(capacity: 256)
                ResultCoding.encode(chunk, into: &writer)
                try? channel.send(type: FrameType.progress, payload: writer.bytes)
            }
            heartbeat.busy(every: request.progressInterval == 0 ? 10_000_000 : WorkerTiming.heartbeatInterval)
            let (reply, language) = handle(request, runtime: runtime, cache: cache)
            // Python code that escaped its restrictions could have changed what every later
            // tenant's code runs: such a worker asks to be replaced. (JavaScript evaluates every
            // batch in a fresh global object.)
            var tainted: String?
            if language == .python, let change = PythonEngine.shared.sharedStateChange() {
                tainted = "transformation \(request.programID) changed state every transformation shares (\(change))"
            }
            heartbeat.busy(every: nil)
            do {
                try channel.send(type: FrameType.reply, payload: reply.encoded(residentBytes: ResidentMemory.bytes(), tainted: tainted))
            } catch {
                return 0
            }
        }
    }

    /// The reply, and the language of the code that ran (nil when none did).
    private static func handle(_ request: RunRequest, runtime: Runtime,
                               cache: CompiledCache<Result<any CompiledTransformation, CompileError>>) -> (RunReply, Language?) {
        let compiled: Result<any CompiledTransformation, CompileError>
        if let cached = cache.value(for: request.programID) {
            compiled = cached
        } else if let program = request.program {
            compiled = Result { () throws(CompileError) in
                try runtime.compile(program.source, libraries: InMemoryLibraries(program.libraries))
            }
            if !program.ephemeral {
                cache.insert(compiled, for: program.id,
                             bytes: program.source.code.utf8.count + program.libraries.reduce(0) { $0 + $1.code.utf8.count })
            }
        } else {
            return (.needsCode, nil)
        }
        switch compiled {
        case .success(let transformation):
            return (.ran(runtime.run(transformation, batch: request.batch, limits: request.limits)), transformation.source.language)
        case .failure(let error):
            // Python runs a module's top level while compiling it.
            return (.compileFailed(error.message), request.program?.source.language)
        }
    }

    /// Starts the engines and loads, while files can still be opened, everything user code may
    /// use later. Returns why that failed, or nil.
    private static func warmUp(_ runtime: Runtime) -> String? {
        _ = ResidentMemory.bytes()
        if let problem = PythonEngine.shared.startupError ?? PythonEngine.shared.preloadAllowedModules() { return "Python: \(problem)" }
        let probes = [
            TransformationSource(name: "warm-up", language: .javascript, fileName: "warm-up.js",
                                 code: "export function transformEvent(event) { return event; }"),
            TransformationSource(name: "warm-up", language: .python, fileName: "warm-up.py",
                                 code: "def transformEvent(event, metadata):\n    return event\n"),
        ]
        for probe in probes {
            do {
                let compiled = try runtime.compile(probe, libraries: NoLibraries())
                let result = runtime.run(compiled, batch: Batch(items: [Array(#"{"message":{"a":1},"metadata":{}}"#.utf8)]), limits: .defaults)
                guard case .output = result.results.first?.outcome else { return "\(probe.language) warm-up failed: \(result.results)" }
            } catch {
                return "\(probe.language) warm-up failed: \(error.message)"
            }
        }
        return nil
    }

    private static func report(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
    }
}

/// Tells the server every ``WorkerTiming/heartbeatInterval`` that a batch is still running and
/// which call it is in (``CallState``, read from the engine monitor's control words), so the
/// server can tell a slow batch of many calls from a stuck call, and knows which input was
/// running if the worker has to be ended or dies.
private final class Heartbeat: @unchecked Sendable {
    // @unchecked: `interval` is read and written under `mutex`.
    private let channel: FrameChannel
    private let mutex = ThreadLock()
    /// Nanoseconds between heartbeats while a batch runs; nil while idle.
    private var interval: UInt64?

    init(channel: FrameChannel) {
        self.channel = channel
    }

    /// Starts heartbeats every `interval` nanoseconds (nil stops them): the usual 250 ms, or 10 ms
    /// while a batch is run again after a lost worker, when the server must know precisely
    /// whether a call was running.
    func busy(every interval: UInt64?) {
        mutex.withLock { self.interval = interval }
    }

    func start() {
        startThread { [self] in
            var sent: UInt64 = 0
            while true {
                usleep(5_000)
                let interval = mutex.withLock { self.interval }
                guard let interval else {
                    sent = 0
                    continue
                }
                let now = monotonicNanoseconds()
                if sent == 0 { sent = now }
                guard now &- sent >= interval else { continue }
                sent = now
                let state = EngineMonitor.current.map { CallState(sequence: $0.sequence, inputIndex: $0.inputIndex) } ?? .idle
                try? channel.send(type: FrameType.heartbeat, payload: state.encoded())
            }
        }
    }
}
