#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// The service's worker processes: starts them, routes each batch to one (preferring a worker
/// that already has the program compiled), ships code to a worker the first time it needs it,
/// and replaces a worker that dies, stops answering or grows too large.
///
/// A batch is one round trip: a ``RunRequest`` frame out, ``FrameType/heartbeat`` frames while
/// it runs, one reply frame back. A worker silent for the call's time limit plus ``Configuration/grace``
/// is killed; a worker that dies mid-batch costs that batch (``FailureKind/workerLost``, which the
/// HTTP layer turns into retryable items) and nothing else.
public final class WorkerPool: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `mutex`.

    /// Settings, each with its default.
    public struct Configuration: Sendable {
        /// The `sluice` executable (default: this process's own, `/proc/self/exe`).
        public var executable = WorkerPool.currentExecutable
        /// Arguments after the executable (default `["worker"]`).
        public var arguments = ["worker"]
        /// Worker processes (default: one per core this process may use, ``ProcessorBudget``).
        public var count = ProcessorBudget.cores
        /// Silence past a call's time limit after which a worker is killed (default 3 s: the
        /// worker's own monitor ends a stuck call at the limit plus 0.15 s, first).
        public var grace: Duration = .seconds(3)
        /// A worker whose resident memory is past this after a batch is replaced (default 1 GiB).
        public var recycleResidentBytes = 1 << 30
        /// How long a request waits for a free worker before it gets a retryable failure (default 30 s).
        public var checkoutTimeout: Duration = .seconds(30)
        /// Performs the fetches user code makes (workers have no network); nil: every fetch
        /// fails as unavailable. The service sets a ``Fetcher`` behind the egress guard.
        public var fetch: FetchHandler?
        /// How long a new worker may take to say hello (default 10 s).
        public var startTimeout: Duration = .seconds(10)
        /// Started, warmed and confined workers kept in reserve (default 1): a lost worker's slot
        /// takes one at once instead of waiting the 40–300 ms a worker needs to start, and a new
        /// spare starts in the background. Each costs an idle process's memory.
        public var spares = 1
        /// The languages whose engines every worker starts (default: JavaScript). A batch of a
        /// program in another language adds its language to the pool's: idle workers are then
        /// replaced, one at a time, by workers that start it too, and that batch waits for the
        /// first (a worker's start-up, ~0.3 s with Python). An engine costs a worker its memory
        /// from the start — Python ~21 MB private and ~0.25 s of start-up, JavaScript ~5 MB —
        /// so a pool that never runs Python never pays for it (docs/sandbox.md, "Start-up").
        public var languages: Set<Language> = [.javascript]

        public init() {}
    }

    /// Events the pool reports (for logs and metrics). A slot of -1 is a spare worker.
    public enum Event: Sendable {
        case started(slot: Int, pid: Int32, duration: Duration)
        /// A spare took the place of a lost worker.
        case promoted(slot: Int, pid: Int32)
        /// A spare that starts more languages took the place of an idle worker that lacked one
        /// a program needed (``Configuration/languages``).
        case widened(slot: Int, pid: Int32, languages: [Language])
        case failedToStart(slot: Int, reason: String)
        /// A worker was lost: `reason` says how (killed after silence, died with a signal, …).
        case lost(slot: Int, pid: Int32, reason: String)
        case recycled(slot: Int, pid: Int32, residentBytes: Int)
        /// The worker asked to be replaced: code it ran changed state every tenant shares.
        case tainted(slot: Int, pid: Int32, reason: String)
        /// An input's call forced its worker to be ended (or killed it twice): it got its terminal
        /// failure and the batch's other inputs ran on. `inputIndex` -1: every unfinished input.
        case poisoned(programID: String, inputIndex: Int, reason: String)
        /// What a worker's compiled-code cache did for a batch of `program` (a lookup, a compile,
        /// evictions), so the server counts compiles and cache use across its workers.
        case compiled(programID: String, transformation: String, report: CompileReport)
    }

    /// What `/health` shows.
    public struct Status: Sendable {
        public var workers: Int
        public var ready: Int
        public var busy: Int
        public var replacements: Int
        /// Spare workers ready to take a lost worker's place.
        public var spares: Int
        /// The confinement of the most recently started worker.
        public var mechanisms: [Mechanism]
    }

    private final class Slot {
        let index: Int
        var process: WorkerProcess?
        /// The languages whose engines ``process`` started.
        var languages: Set<Language> = []
        var busy = false
        /// Programs this worker has compiled (as far as the server knows), with last use.
        var warm: [String: UInt64] = [:]
        /// Consecutive deaths soon after start (for back-off).
        var quickDeaths = 0
        var restartAt: UInt64 = 0
        init(index: Int) { self.index = index }
    }

    public let configuration: Configuration
    private let observer: @Sendable (Event) -> Void
    private let mutex = ThreadLock()
    private let condition = ThreadCondition()
    private let keeperCondition = ThreadCondition()
    private var slots: [Slot]
    private var spares: [(process: WorkerProcess, languages: Set<Language>)] = []
    /// The languages new workers start: the configuration's and every language a batch needed.
    private var languages: Set<Language>
    /// Why the last worker start failed and the languages it was to start, until a start
    /// succeeds (a batch in a language no worker has gets it at once rather than waiting for a
    /// worker that cannot start).
    private var startFailure: (languages: Set<Language>, reason: String)?
    private var clock: UInt64 = 0
    private var replacements = 0
    private var lastMechanisms: [Mechanism] = []
    private var shuttingDown = false

    /// Starts `configuration.count` workers and waits until each has said hello; throws when the
    /// first cannot start (a wrong executable, engines that fail to load).
    public init(configuration: Configuration = Configuration(), observer: @escaping @Sendable (Event) -> Void = { _ in }) throws(FrameChannel.Failure) {
        self.configuration = configuration
        self.observer = observer
        slots = (0..<max(1, configuration.count)).map { Slot(index: $0) }
        languages = configuration.languages
        for slot in slots {
            let (process, hello, duration) = try start(languages: languages)
            slot.process = process
            slot.languages = languages
            lastMechanisms = hello.mechanisms
            observer(.started(slot: slot.index, pid: process.pid, duration: duration))
        }
        // Spares start in the background (the keeper), so they do not delay the service's start.
        startThread { [self] in keep() }
    }

    /// This process's executable.
    public static var currentExecutable: String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let count = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        return count > 0 ? String(cString: buffer) : CommandLine.arguments[0]
    }

    /// Starts one worker with the engines of `languages` and waits for its hello.
    private func start(languages: Set<Language>) throws(FrameChannel.Failure) -> (WorkerProcess, Hello, Duration) {
        let begin = monotonicNanoseconds()
        let names = languages.map(\.rawValue).sorted().joined(separator: ",")
        let process = try WorkerProcess.spawn(executable: configuration.executable, arguments: configuration.arguments + ["--languages", names])
        do throws(FrameChannel.Failure) {
            let frame = try process.channel.receive(deadline: begin + UInt64(configuration.startTimeout.millisecondsValue * 1_000_000))
            guard frame.type == FrameType.hello else { throw FrameChannel.Failure.system("worker sent frame \(frame.type) before hello") }
            var hello: Hello
            do { hello = try Hello(decoding: frame.payload) } catch { throw FrameChannel.Failure.system("bad hello: \(error)") }
            hello.mechanisms.insert(Confinement.inheritedDescriptors(closedAtSpawn: process.inheritedDescriptorsClosed), at: 0)
            return (process, hello, .nanoseconds(Int64(monotonicNanoseconds() - begin)))
        } catch {
            // How it ended is read before the kill (which reaps it): a worker that closed its
            // channel is exiting, its status says why (`exit status 1`).
            let reason: String = switch error {
            case .closed: "the worker exited during start-up (\(process.reap()))"
            case .timedOut: "the worker did not start within \(configuration.startTimeout)"
            case .system(let message): message
            }
            process.kill()
            throw .system(reason)
        }
    }

    /// Replaces lost workers, with back-off for a worker that keeps dying soon after it starts
    /// (100 ms, doubling per consecutive quick death, up to 5 s). Every 10 ms it also looks at
    /// the idle workers, so one that died between batches (killed, out of memory) is replaced at
    /// once instead of failing the next batch sent to it.
    private func keep() {
        mutex.lock()
        while !shuttingDown {
            removeDeadIdleWorkers()
            spares.removeAll { spare in
                guard spare.process.channel.peerClosed else { return false }
                observer(.lost(slot: -1, pid: spare.process.pid, reason: "spare worker process \(spare.process.pid) ended (\(spare.process.reap()))"))
                return true
            }
            // A spare without a language the pool now runs is of no use: stopped, and one that
            // starts every language is started below.
            let narrow = spares.filter { !$0.languages.isSuperset(of: languages) }
            if !narrow.isEmpty {
                spares.removeAll { !$0.languages.isSuperset(of: languages) }
                mutex.unlock()
                for spare in narrow { spare.process.stop() }
                mutex.lock()
                continue
            }
            let now = monotonicNanoseconds()
            let vacant = slots.first(where: { $0.process == nil && !$0.busy && $0.restartAt <= now })
            if let vacant, !spares.isEmpty {
                let spare = spares.removeFirst()
                vacant.process = spare.process
                vacant.languages = spare.languages
                vacant.warm = [:]
                replacements += 1
                observer(.promoted(slot: vacant.index, pid: spare.process.pid))
                condition.broadcast()
                continue
            }
            // An idle worker without a language the pool now runs gives its place to a spare that
            // has it (one at a time, so the others keep serving meanwhile).
            let lacking = slots.filter { $0.process != nil && !$0.languages.isSuperset(of: languages) }
            if let narrowest = lacking.first(where: { !$0.busy }), !spares.isEmpty, let old = narrowest.process {
                let spare = spares.removeFirst()
                narrowest.process = spare.process
                narrowest.languages = spare.languages
                narrowest.warm = [:]
                observer(.widened(slot: narrowest.index, pid: spare.process.pid, languages: spare.languages.sorted { $0.rawValue < $1.rawValue }))
                condition.broadcast()
                mutex.unlock()
                old.stop()
                mutex.lock()
                continue
            }
            let wantSpare = vacant == nil && (spares.count < configuration.spares || (!lacking.isEmpty && spares.isEmpty))
            guard let slot = vacant ?? (wantSpare ? Slot(index: -1) : nil) else {
                let next = slots.filter { $0.process == nil && !$0.busy }.map(\.restartAt).min()
                keeperCondition.wait(mutex, nanoseconds: min(next.map { $0 > now ? $0 - now : 1_000_000 } ?? Self.idleCheckInterval, Self.idleCheckInterval))
                continue
            }
            slot.busy = true  // reserved while starting
            let starting = languages
            mutex.unlock()
            let result = Result { () throws(FrameChannel.Failure) in try start(languages: starting) }
            mutex.lock()
            slot.busy = false
            if case .failure(let failure) = result { startFailure = (starting, failure.description) } else { startFailure = nil }
            switch result {
            case .success(let (process, hello, duration)) where slot.index < 0:
                lastMechanisms = hello.mechanisms
                observer(.started(slot: -1, pid: process.pid, duration: duration))
                if shuttingDown { process.kill() } else { spares.append((process, starting)) }
            case .success(let (process, hello, duration)):
                slot.process = process
                slot.languages = starting
                slot.warm = [:]
                replacements += 1
                lastMechanisms = hello.mechanisms
                observer(.started(slot: slot.index, pid: process.pid, duration: duration))
            case .failure(let failure) where slot.index < 0:
                observer(.failedToStart(slot: -1, reason: failure.description))
                // Do not spin on spares that cannot start: the slots' own back-off paces retries.
                keeperCondition.wait(mutex, nanoseconds: 1_000_000_000)
            case .failure(let failure):
                slot.quickDeaths += 1
                slot.restartAt = monotonicNanoseconds() + Self.backoff(slot.quickDeaths)
                observer(.failedToStart(slot: slot.index, reason: failure.description))
            }
            condition.broadcast()
        }
        mutex.unlock()
    }

    /// How often the keeper looks for idle workers that died (10 ms).
    static let idleCheckInterval: UInt64 = 10_000_000

    /// Takes idle workers that died (killed, out of memory) out of their slots; under the lock.
    private func removeDeadIdleWorkers() {
        for slot in slots where !slot.busy {
            if let process = slot.process, process.channel.peerClosed {
                markLost(slot, process, reason: "worker process \(process.pid) ended while idle (\(process.reap())); it is being replaced")
            }
        }
    }

    /// Takes a dead (or killed) worker out of its slot and schedules its replacement; under the lock.
    private func markLost(_ slot: Slot, _ process: WorkerProcess, reason: String) {
        slot.process = nil
        slot.warm = [:]
        let quick = monotonicNanoseconds() - process.startedAt < 1_000_000_000
        slot.quickDeaths = quick ? slot.quickDeaths + 1 : 0
        slot.restartAt = monotonicNanoseconds() + Self.backoff(slot.quickDeaths)
        observer(.lost(slot: slot.index, pid: process.pid, reason: reason))
        keeperCondition.signal()
    }

    /// Nanoseconds to wait before restarting a worker that died within a second of its start
    /// `deaths` times in a row: none for the first, then 100 ms doubling up to 5 s (a crash loop
    /// must not eat the machine; one unlucky death must not delay its replacement).
    public static func backoff(_ deaths: Int) -> UInt64 {
        guard deaths > 1 else { return 0 }
        return min(100_000_000 << UInt64(min(deaths - 2, 10)), 5_000_000_000)
    }

    /// Runs `batch` through `program` on workers. Blocks the calling thread (a server worker
    /// thread, never an event loop) until every input has its results, or the batch is lost.
    ///
    /// Poison events are isolated here: when a worker has to be ended (a call past its time limit
    /// plus the grace in code the engine cannot interrupt, or a worker busy past it whatever its
    /// heartbeats say) or dies while running a call, the results it streamed before are kept,
    /// the input whose call was running gets its terminal failure, and the inputs it had not
    /// finished run on a fresh worker. A death is the event's fault only when it repeats: the
    /// unfinished inputs are run once more, reporting after every call, and the input running
    /// when that worker dies too gets a terminal ``FailureKind/crash``; a death that does not
    /// repeat is the infrastructure's, and the batch fails with ``FailureKind/workerLost`` (retryable).
    public func run(_ program: Program, batch: Batch, limits: Limits) -> Execution {
        let metadata = batch.itemMetadata
        var finished: [EventResult] = []
        var logs: [LogLine] = []
        var unmocked: [String] = []
        /// Each input's call time, when asked for (``Batch/measuresEventTimes``), from the attempt that finished it.
        var eventNanoseconds = batch.measuresEventTimes ? [UInt64](repeating: 0, count: batch.items.count) : []
        var workerEndings = 0
        /// The inputs still to run, as indices into `batch.items`.
        var pending = Array(batch.items.indices)
        var mode = IsolationMode.normal
        var attempts = 0
        func terminal(_ index: Int, _ failure: Failure, reason: String) {
            finished.append(EventResult(inputIndex: index, outcome: .failed(failure), metadata: index < metadata.count ? metadata[index] : []))
            observer(.poisoned(programID: program.id, inputIndex: index, reason: reason))
        }
        repeat {
            let inputs: [Int]
            if case .singly = mode { inputs = [pending[0]] } else { inputs = pending }
            let part = Self.part(of: batch, inputs: inputs, metadata: metadata)
            let attempt = self.attempt(program, batch: part, limits: limits, progressInterval: mode == .normal ? Self.progressInterval : 0)
            attempts += 1
            // Back to the batch's own indices.
            var result = attempt.results
            for position in result.results.indices { result.results[position].inputIndex = result.results[position].inputIndex.map { inputs[$0] } }
            for position in result.logs.indices { result.logs[position].inputIndex = result.logs[position].inputIndex.map { inputs[$0] } }
            finished += result.results
            logs += result.logs
            unmocked += result.unmockedRequests
            if !eventNanoseconds.isEmpty {
                for (position, nanoseconds) in result.eventNanoseconds.enumerated() where position < inputs.count {
                    eventNanoseconds[inputs[position]] = nanoseconds
                }
            }
            let done = Set(result.results.compactMap(\.inputIndex))
            // Inputs this attempt did not finish, then the ones it was not given.
            let unfinished = inputs.filter { !done.contains($0) }
            let notGiven = Array(pending.dropFirst(inputs.count))
            switch attempt.ending {
            case .completed:
                switch mode {
                case .normal:
                    pending = notGiven
                case .careful(let firstDeath, _):
                    // The death did not repeat: not the events' fault. A retry of the whole batch fixes it.
                    return .failed(Failure(.workerLost, firstDeath))
                case .singly(let firstDeath, _):
                    pending = notGiven
                    if pending.isEmpty { return .failed(Failure(.workerLost, firstDeath)) }
                }
            case .compileFailed(let message):
                guard attempts > 1 else { return .failed(Failure(.compile, message)) }
                for index in pending where !done.contains(index) { terminal(index, Failure(.compile, message), reason: message) }
                pending = []
            case .refused(let reason):
                return .failed(Failure(.refused, reason))
            case .unavailable(let reason):
                return .failed(Failure(.unavailable, reason))
            case .overLimit(let state, let reason):
                // A call (or the driver's work after it) ran past the time limit plus the grace:
                // that input's fault, whatever a re-run would do.
                workerEndings += 1
                if state.inputIndex >= 0, state.inputIndex < inputs.count, done.contains(inputs[state.inputIndex]) {
                    // Stuck in the driver after a call whose result had already streamed: that
                    // result stands; the rest run on a fresh worker, whose state is clean.
                    pending = unfinished + notGiven
                } else if state.inputIndex >= 0, state.inputIndex < inputs.count {
                    let guilty = inputs[state.inputIndex]
                    terminal(guilty, Failure(.timeLimit, limits.timeLimitMessage), reason: reason)
                    pending = unfinished.filter { $0 != guilty } + notGiven
                } else {
                    // A whole transformBatch call, or the module's own load: every input it had.
                    for index in unfinished { terminal(index, Failure(.timeLimit, limits.timeLimitMessage), reason: reason) }
                    pending = notGiven
                }
                mode = .normal
            case .died(let state, let reason, let how):
                switch mode {
                case .normal:
                    // Once more, carefully: results after every call, so the input whose call is
                    // running when a repeated death comes is known exactly.
                    mode = .careful(reason, how: how)
                    pending = unfinished + notGiven
                case .careful(let firstDeath, let firstHow), .singly(let firstDeath, let firstHow):
                    let message = "the worker process running this event ended (\(firstHow)), and ended again (\(how)) when the event was run once more on a fresh worker"
                    if case .careful = mode, state.inCall, state.inputIndex < 0 {
                        // A whole transformBatch call died twice.
                        workerEndings += 1
                        for index in unfinished { terminal(index, Failure(.crash, message), reason: reason) }
                        pending = notGiven
                        mode = .normal
                    } else if case .careful = mode, !state.inCall, state.inputIndex < 0 {
                        // Died twice before any call (reading the inputs): one input at a time finds which.
                        mode = .singly(firstDeath, how: firstHow)
                        pending = unfinished + notGiven
                    } else if let guilty = unfinished.first {
                        // Every earlier call's results were sent before this call started.
                        workerEndings += 1
                        terminal(guilty, Failure(.crash, message), reason: reason)
                        pending = Array(unfinished.dropFirst()) + notGiven
                        mode = .normal
                    } else {
                        pending = notGiven
                        mode = .normal
                    }
                }
            }
            // Every attempt finishes or condemns at least one input, except a re-run after a death
            // or a driver stuck after a streamed call; bound the loop whatever happens.
            if !pending.isEmpty && attempts > batch.items.count + 4 {
                for index in pending { terminal(index, Failure(.engine, "internal error: the batch could not be finished after \(attempts) worker processes"), reason: "too many attempts") }
                pending = []
            }
        } while !pending.isEmpty
        var result = BatchResult(results: ResultRecords.inputOrder(finished), logs: logs, unmockedRequests: unmocked)
        result.workerEndings = workerEndings
        result.eventNanoseconds = eventNanoseconds
        return .ran(result)
    }

    /// How the unfinished inputs of a batch are being run after a lost worker.
    private enum IsolationMode: Equatable {
        /// As one batch, reporting results every ``progressInterval``.
        case normal
        /// Once more after a death nothing explained (its reason, and how the worker ended),
        /// reporting after every call.
        case careful(String, how: String)
        /// One input at a time, after a second death before any call had started.
        case singly(String, how: String)
    }

    /// How often a worker streams finished results while a batch runs (20 ms).
    static let progressInterval: UInt64 = 20_000_000

    /// The inputs `indices` of `batch` as a batch of their own (credentials and metadata follow
    /// their inputs).
    static func part(of batch: Batch, inputs indices: [Int], metadata: [JSONText]) -> Batch {
        if indices.count == batch.items.count { return batch }
        var part = batch
        part.items = indices.map { batch.items[$0] }
        part.metadataTexts = indices.map { $0 < metadata.count ? metadata[$0] : [] }
        part.eventCredentials = [:]
        for (position, index) in indices.enumerated() {
            if let credentials = batch.eventCredentials[index] { part.eventCredentials[position] = credentials }
        }
        return part
    }

    /// How one attempt on one worker ended.
    enum AttemptEnding {
        /// The worker answered: every input has its results.
        case completed
        case compileFailed(String)
        case refused(String)
        /// No worker could be had (none free in time, or none could start).
        case unavailable(String)
        /// The worker was ended because one state (a call, or the driver's work after it) lasted
        /// past the time limit plus the grace; `state` is that state.
        case overLimit(CallState, reason: String)
        /// The worker died or broke the protocol for a reason of its own; `state` is the last one
        /// it reported, `how` how it ended (`signal 9 (SIGKILL)`).
        case died(CallState, reason: String, how: String)
    }

    /// One attempt: the results the worker sent (streamed and in its reply), and how it ended.
    private func attempt(_ program: Program, batch: Batch, limits: Limits, progressInterval: UInt64)
        -> (results: BatchResult, ending: AttemptEnding) {
        var collected = BatchResult(results: [], logs: [])
        let metadata = batch.itemMetadata
        let slot: Slot
        switch checkout(program) {
        case .success(let chosen): slot = chosen
        case .failure(let failure): return (collected, .unavailable(failure.reason))
        }
        let process = slot.process!
        var shipCode = slot.warm[program.id] == nil
        var ending: AttemptEnding = .completed
        var residentBytes = 0
        var tainted: String?
        var failure: String?
        // A state (a call, or the driver between calls) may last the time limit plus the grace.
        let limit = UInt64(limits.timeMilliseconds) * 1_000_000, grace = UInt64(configuration.grace.millisecondsValue) * 1_000_000
        /// How long the current state may last (reading the inputs before any call: at least 10 s).
        func allowed(_ state: CallState) -> UInt64 {
            (state.inCall || state.inputIndex >= 0 ? limit : max(limit, EngineMonitor.minimumReadingAllowance)) + grace
        }
        var state = CallState.idle
        var stateSince = monotonicNanoseconds()
        attempt: while true {
            var request = RunRequest(programID: program.id, program: shipCode ? program : nil, limits: limits, batch: batch)
            request.progressInterval = progressInterval
            do throws(FrameChannel.Failure) {
                try process.channel.send(type: FrameType.run, payload: request.encoded(), deadline: monotonicNanoseconds() + allowed(.idle))
                stateSince = monotonicNanoseconds()
                while true {
                    let frame = try process.channel.receive(deadline: stateSince + allowed(state))
                    switch frame.type {
                    case FrameType.heartbeat:
                        let reported: CallState
                        do { reported = try CallState(decoding: frame.payload) } catch { throw FrameChannel.Failure.system("bad heartbeat: \(error)") }
                        if reported != state {
                            state = reported
                            stateSince = monotonicNanoseconds()
                        }
                        continue
                    case FrameType.progress:
                        var reader = WireReader(frame.payload)
                        do {
                            let chunk = try ResultCoding.decode(&reader, metadata: metadata)
                            collected.results += chunk.results
                            collected.logs += chunk.logs
                            collected.unmockedRequests += chunk.unmockedRequests
                        } catch {
                            throw FrameChannel.Failure.system("bad progress frame: \(error)")
                        }
                        continue
                    case FrameType.fetch:
                        // The worker waits; its call's time keeps running (the fetch is bounded by it).
                        let result: Result<FetchResponse, FetchFailure>
                        do {
                            let call = try FetchCall.decodeRequest(frame.payload)
                            result = configuration.fetch?(call.request, call.remainingNanoseconds)
                                ?? .failure(call.request.purpose == .geolocation
                                    ? FetchFailure(kind: "unavailable", message: Geolocation.unavailableMessage) : .unavailableOffline)
                        } catch {
                            throw FrameChannel.Failure.system("bad fetch frame: \(error)")
                        }
                        try process.channel.send(type: FrameType.fetchResult, payload: FetchCall.encode(result),
                                                 deadline: monotonicNanoseconds() + allowed(state))
                        continue
                    case FrameType.reply:
                        break
                    default:
                        throw FrameChannel.Failure.system("unexpected frame \(frame.type)")
                    }
                    let decoded: (reply: RunReply, residentBytes: Int, tainted: String?, compile: CompileReport)
                    do { decoded = try RunReply.decode(frame.payload, metadata: metadata) } catch { throw FrameChannel.Failure.system("bad reply: \(error)") }
                    residentBytes = decoded.residentBytes
                    tainted = decoded.tainted
                    if !decoded.compile.isEmpty {
                        observer(.compiled(programID: program.id, transformation: program.source.name, report: decoded.compile))
                    }
                    switch decoded.reply {
                    case .needsCode where !shipCode:
                        shipCode = true
                        continue attempt
                    case .needsCode:
                        throw FrameChannel.Failure.system("worker asked for code it was sent")
                    case .ran(let result):
                        collected.results += result.results
                        collected.logs += result.logs
                        collected.unmockedRequests += result.unmockedRequests
                        collected.eventNanoseconds = result.eventNanoseconds
                    case .compileFailed(let message):
                        ending = .compileFailed(message)
                    }
                    break attempt
                }
            } catch {
                let where_ = state.inCall ? (state.inputIndex >= 0 ? "in the call for input \(state.inputIndex)" : "in a call")
                    : "between calls"
                switch error {
                case .timedOut:
                    process.kill()
                    let reason = "worker process \(process.pid) was busy \(where_) past the time limit of \(limits.timeMilliseconds) ms plus \(Int(configuration.grace.millisecondsValue)) ms and was stopped; it is being replaced"
                    failure = reason
                    ending = .overLimit(state, reason: reason)
                case .closed:
                    let how = process.reap()
                    if how == "exit status \(EngineMonitor.exitStatus)" {
                        let reason = "a call ran past its time limit of \(limits.timeMilliseconds) ms in code that cannot be interrupted in-process (a loop of promise jobs, a catastrophic regular expression, a long native call, a hijacked built-in); worker process \(process.pid) ended itself and is being replaced"
                        failure = reason
                        ending = .overLimit(state, reason: reason)
                    } else {
                        let reason = "worker process \(process.pid) ended \(where_) (\(how)); it is being replaced"
                        failure = reason
                        ending = .died(state, reason: reason, how: how)
                    }
                case .system(let message):
                    process.kill()
                    let reason = "worker process \(process.pid) failed (\(message)) and was stopped; it is being replaced"
                    failure = reason
                    ending = .died(state, reason: reason, how: message)
                }
                break attempt
            }
        }
        checkin(slot, program: program, failure: failure, residentBytes: residentBytes, tainted: tainted)
        if let tainted { return (collected, .refused(tainted)) }
        return (collected, ending)
    }

    /// Why no worker could be had for a batch.
    private struct CheckoutFailure: Error {
        let reason: String
    }

    /// A free worker that starts `program`'s language, the one that has it compiled if any. A
    /// language no worker starts yet is added to the pool's: the keeper widens idle workers.
    private func checkout(_ program: Program) -> Result<Slot, CheckoutFailure> {
        let deadline = monotonicNanoseconds() + UInt64(configuration.checkoutTimeout.millisecondsValue * 1_000_000)
        let language = program.source.language
        mutex.lock()
        defer { mutex.unlock() }
        if languages.insert(language).inserted { keeperCondition.signal() }
        while true {
            removeDeadIdleWorkers()
            let free = slots.filter { !$0.busy && $0.process != nil && $0.languages.contains(language) }
            if let chosen = free.first(where: { $0.warm[program.id] != nil }) ?? free.min(by: { $0.warm.count < $1.warm.count }) {
                chosen.busy = true
                return .success(chosen)
            }
            if let startFailure, startFailure.languages.contains(language),
               !slots.contains(where: { $0.process != nil && $0.languages.contains(language) }) {
                return .failure(CheckoutFailure(reason: "no worker process with the \(language.rawValue) engine could start: \(startFailure.reason)"))
            }
            let now = monotonicNanoseconds()
            guard now < deadline, !shuttingDown else {
                return .failure(CheckoutFailure(reason: "no worker process available within \(configuration.checkoutTimeout)"))
            }
            condition.wait(mutex, nanoseconds: min(deadline - now, 100_000_000))
        }
    }

    private func checkin(_ slot: Slot, program: Program, failure: String?, residentBytes: Int, tainted: String?) {
        mutex.lock()
        defer { mutex.unlock() }
        slot.busy = false
        guard let process = slot.process else { return }
        if let failure {
            markLost(slot, process, reason: failure)
        } else if tainted != nil || residentBytes > configuration.recycleResidentBytes {
            slot.process = nil
            slot.warm = [:]
            slot.quickDeaths = 0
            slot.restartAt = 0
            if let tainted {
                observer(.tainted(slot: slot.index, pid: process.pid, reason: tainted))
            } else {
                observer(.recycled(slot: slot.index, pid: process.pid, residentBytes: residentBytes))
            }
            // Stopping waits for the worker to leave: not under the lock.
            mutex.unlock()
            process.stop()
            mutex.lock()
            keeperCondition.signal()
        } else {
            slot.quickDeaths = 0
            if !program.ephemeral {
                clock += 1
                slot.warm[program.id] = clock
            }
        }
        condition.broadcast()
    }

    /// Workers, how many are ready and busy, replacements so far and the active confinement.
    public var status: Status {
        mutex.lock()
        defer { mutex.unlock() }
        return Status(workers: slots.count, ready: slots.filter { $0.process != nil }.count,
                      busy: slots.filter { $0.busy && $0.process != nil }.count, replacements: replacements,
                      spares: spares.count, mechanisms: lastMechanisms)
    }

    /// The pids of the running workers (tests kill one on purpose).
    public var pids: [Int32] {
        mutex.lock()
        defer { mutex.unlock() }
        return slots.compactMap { $0.process?.pid }
    }

    /// Stops every worker (each leaves when its channel closes).
    public func shutdown() {
        mutex.lock()
        shuttingDown = true
        let processes = slots.compactMap(\.process) + spares.map(\.process)
        for slot in slots { slot.process = nil }
        spares.removeAll()
        keeperCondition.broadcast()
        condition.broadcast()
        mutex.unlock()
        for process in processes { process.stop(grace: 500_000_000) }
    }
}
