#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceSandbox

/// The body of `sluice worker`: a child of `sluice serve` that runs user code for it.
///
/// In order (it starts with stdio and the channel only: the server's spawn closed the rest): start
/// the engines of the languages the server asked for (`--languages`; a confined process could not
/// start another later: Python reads its standard library from files) and load what user code may
/// later need (``TransformationEngine/warmUp()``: the standard-library modules Python
/// transformations may import; the resident-memory reader);
/// confine itself (``Confinement/apply(maximumDescriptors:)``); say hello with the confinement
/// report; then answer ``RunRequest`` frames on descriptor 3 until the server closes it. Compiled
/// programs are kept in an LRU cache; a request for a program the worker does not have gets
/// ``RunReply/needsCode``.
public enum WorkerMain {
    /// Runs the worker with the engines of `languages` (a request for a program in another
    /// language gets a compile failure: the pool never sends one).
    /// With `jsonLogs`, the lines it writes to the shared standard error are JSON log lines like
    /// the server's (`sluice serve --log-format json`).
    public static func run(cacheLimits: CacheLimits = CacheLimits(), languages: Set<Language> = Set(Language.allCases), jsonLogs: Bool = false) -> Int32 {
        self.jsonLogs = jsonLogs
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
            report(stuck.message + "; ending worker process \(getpid()): that event gets its time-limit error and the batch goes on without it.",
                   level: "warning")
            _exit(EngineMonitor.exitStatus)
        }
        let runtime = Runtime(libraries: NoLibraries(), engines: Engines.registrations.filter { languages.contains($0.support.language) })
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
        let compileReports = CompileReports()
        let executor = InProcessExecutor(runtime: runtime, cacheLimits: cacheLimits, observer: compileReports)
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
            connect(&request, to: channel)
            heartbeat.busy(every: request.progressInterval == 0 ? 10_000_000 : WorkerTiming.heartbeatInterval)
            let (reply, language) = handle(request, executor: executor, reports: compileReports)
            // Code that escaped its engine's restrictions could have changed what every later
            // tenant's code runs (Python; JavaScript evaluates every batch in a fresh global
            // object): such a worker asks to be replaced.
            var tainted: String?
            if let language, let change = (try? runtime.engine(for: language))?.sharedStateChange() {
                tainted = "transformation \(request.programID) changed state every transformation shares (\(change))"
            }
            heartbeat.busy(every: nil)
            do {
                try channel.send(type: FrameType.reply, payload: reply.encoded(residentBytes: ResidentMemory.bytes(), tainted: tainted,
                                                                                compile: compileReports.take()))
            } catch {
                return 0
            }
        }
    }

    /// Starts the runtime's engines and loads, while files can still be opened, everything
    /// user code may use later (``TransformationEngine/warmUp()``). Returns why that failed, or nil.
    private static func warmUp(_ runtime: Runtime) -> String? {
        _ = ResidentMemory.bytes()
        for engine in runtime.allEngines {
            if let problem = engine.warmUp() { return problem }
        }
        return nil
    }

    /// What the executor's cache did for the current request, for the reply (the server counts it).
    final class CompileReports: CompileObserver, @unchecked Sendable {
        // @unchecked: guarded by `lock` (one request at a time, but the observer is called from the executor).
        private let lock = ThreadLock()
        private var current = CompileReport()

        func cacheLookup(hit: Bool) { lock.withLock { current.cacheHit = hit } }

        func compiled(transformation: String, version: String, duration: Duration, failed: Bool) {
            let nanoseconds = Int(duration.components.seconds) * 1_000_000_000 + Int(duration.components.attoseconds / 1_000_000_000)
            lock.withLock {
                current.compileNanoseconds = nanoseconds
                current.compileFailed = failed
            }
        }

        func cacheEvictions(_ count: Int) { lock.withLock { current.evictions += count } }

        /// The request's report, and a fresh one for the next.
        func take() -> CompileReport {
            lock.withLock {
                defer { current = CompileReport() }
                return current
            }
        }
    }

    /// Set once at the start of ``run(cacheLimits:languages:jsonLogs:)``, before any other thread reads it.
    nonisolated(unsafe) private static var jsonLogs = false

    /// One line on standard error (shared with the server): plain, or a JSON log line naming the worker's pid.
    private static func report(_ line: String, level: String = "error") {
        var bytes: [UInt8]
        if jsonLogs {
            bytes = JSONLogLine.opening(level: level, label: "sluice.worker", message: line)
            bytes += #","worker.pid":\#(getpid())}"#.utf8
        } else {
            bytes = Array(line.utf8)
        }
        bytes.append(0x0A)
        _ = String(decoding: bytes, as: UTF8.self).withCString { write(2, $0, strlen($0)) }
    }
}
