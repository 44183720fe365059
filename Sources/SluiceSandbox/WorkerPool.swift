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
/// is killed; a worker that dies mid-batch costs that batch (``Execution/lost(_:)``, which the
/// HTTP layer turns into retryable items) and nothing else.
public final class WorkerPool: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `mutex`.

    /// Settings, each with its default.
    public struct Configuration: Sendable {
        /// The `sluice` executable (default: this process's own, `/proc/self/exe`).
        public var executable = WorkerPool.currentExecutable
        /// Arguments after the executable (default `["worker"]`).
        public var arguments = ["worker"]
        /// Worker processes (default: one per core).
        public var count = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        /// Silence past a call's time limit after which a worker is killed (default 3 s: the
        /// worker's own monitor ends a stuck call at the limit plus 2 s and reports it first).
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
        /// takes one at once instead of waiting the ~150 ms a worker needs to start, and a new
        /// spare starts in the background. Each costs an idle process's memory.
        public var spares = 1

        public init() {}
    }

    /// How a run through the pool ended.
    public enum Execution: Sendable {
        case ran(BatchResult)
        /// The program does not compile: the message, for every event of the batch.
        case compileFailed(String)
        /// The worker died, was killed or broke the protocol, or none was available: nothing of
        /// the batch is known to have happened; retrying may succeed.
        case lost(String)
        /// The batch ran but its code changed state every tenant shares (an escape from the
        /// Python restrictions): its results are not trusted, the worker is replaced, and every
        /// event fails with this message. Retrying would do the same.
        case refused(String)
    }

    /// Events the pool reports (for logs and metrics). A slot of -1 is a spare worker.
    public enum Event: Sendable {
        case started(slot: Int, pid: Int32, duration: Duration)
        /// A spare took the place of a lost worker.
        case promoted(slot: Int, pid: Int32)
        case failedToStart(slot: Int, reason: String)
        /// A worker was lost: `reason` says how (killed after silence, died with a signal, …).
        case lost(slot: Int, pid: Int32, reason: String)
        case recycled(slot: Int, pid: Int32, residentBytes: Int)
        /// The worker asked to be replaced: code it ran changed state every tenant shares.
        case tainted(slot: Int, pid: Int32, reason: String)
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
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var keeperCondition = pthread_cond_t()
    private var slots: [Slot]
    private var spares: [WorkerProcess] = []
    private var clock: UInt64 = 0
    private var replacements = 0
    private var lastMechanisms: [Mechanism] = []
    private var shuttingDown = false

    /// Starts `configuration.count` workers and waits until each has said hello; throws when the
    /// first cannot start (a wrong executable, engines that fail to load).
    public init(configuration: Configuration = Configuration(), observer: @escaping @Sendable (Event) -> Void = { _ in }) throws(FrameChannel.Failure) {
        self.configuration = configuration
        self.observer = observer
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        pthread_cond_init(&keeperCondition, nil)
        slots = (0..<max(1, configuration.count)).map { Slot(index: $0) }
        for slot in slots {
            let (process, hello, duration) = try start()
            slot.process = process
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

    /// Starts one worker and waits for its hello.
    private func start() throws(FrameChannel.Failure) -> (WorkerProcess, Hello, Duration) {
        let begin = monotonicNanoseconds()
        let process = try WorkerProcess.spawn(executable: configuration.executable, arguments: configuration.arguments)
        do throws(FrameChannel.Failure) {
            let frame = try process.channel.receive(deadline: begin + UInt64(configuration.startTimeout.millisecondsValue * 1_000_000))
            guard frame.type == FrameType.hello else { throw FrameChannel.Failure.system("worker sent frame \(frame.type) before hello") }
            var hello: Hello
            do { hello = try Hello(decoding: frame.payload) } catch { throw FrameChannel.Failure.system("bad hello: \(error)") }
            hello.mechanisms.insert(Confinement.inheritedDescriptors(closedAtSpawn: process.inheritedDescriptorsClosed), at: 0)
            return (process, hello, .nanoseconds(Int64(monotonicNanoseconds() - begin)))
        } catch {
            process.kill()
            let reason: String = switch error {
            case .closed: "the worker exited during start-up (\(process.reap()))"
            case .timedOut: "the worker did not start within \(configuration.startTimeout)"
            case .system(let message): message
            }
            throw .system(reason)
        }
    }

    /// Replaces lost workers, with back-off for a worker that keeps dying soon after it starts
    /// (100 ms, doubling per consecutive quick death, up to 5 s). Every 10 ms it also looks at
    /// the idle workers, so one that died between batches (killed, out of memory) is replaced at
    /// once instead of failing the next batch sent to it.
    private func keep() {
        pthread_mutex_lock(&mutex)
        while !shuttingDown {
            removeDeadIdleWorkers()
            spares.removeAll { spare in
                guard spare.channel.peerClosed else { return false }
                observer(.lost(slot: -1, pid: spare.pid, reason: "spare worker process \(spare.pid) ended (\(spare.reap()))"))
                return true
            }
            let now = monotonicNanoseconds()
            let vacant = slots.first(where: { $0.process == nil && !$0.busy && $0.restartAt <= now })
            if let vacant, !spares.isEmpty {
                let spare = spares.removeFirst()
                vacant.process = spare
                vacant.warm = [:]
                replacements += 1
                observer(.promoted(slot: vacant.index, pid: spare.pid))
                pthread_cond_broadcast(&condition)
                continue
            }
            let wantSpare = vacant == nil && spares.count < configuration.spares
            guard let slot = vacant ?? (wantSpare ? Slot(index: -1) : nil) else {
                let next = slots.filter { $0.process == nil && !$0.busy }.map(\.restartAt).min()
                wait(on: &keeperCondition, nanoseconds: min(next.map { $0 > now ? $0 - now : 1_000_000 } ?? Self.idleCheckInterval, Self.idleCheckInterval))
                continue
            }
            slot.busy = true  // reserved while starting
            pthread_mutex_unlock(&mutex)
            let result = Result { () throws(FrameChannel.Failure) in try start() }
            pthread_mutex_lock(&mutex)
            slot.busy = false
            switch result {
            case .success(let (process, hello, duration)) where slot.index < 0:
                lastMechanisms = hello.mechanisms
                observer(.started(slot: -1, pid: process.pid, duration: duration))
                if shuttingDown { process.kill() } else { spares.append(process) }
            case .success(let (process, hello, duration)):
                slot.process = process
                slot.warm = [:]
                replacements += 1
                lastMechanisms = hello.mechanisms
                observer(.started(slot: slot.index, pid: process.pid, duration: duration))
            case .failure(let failure) where slot.index < 0:
                observer(.failedToStart(slot: -1, reason: failure.description))
                // Do not spin on spares that cannot start: the slots' own back-off paces retries.
                wait(on: &keeperCondition, nanoseconds: 1_000_000_000)
            case .failure(let failure):
                slot.quickDeaths += 1
                slot.restartAt = monotonicNanoseconds() + Self.backoff(slot.quickDeaths)
                observer(.failedToStart(slot: slot.index, reason: failure.description))
            }
            pthread_cond_broadcast(&condition)
        }
        pthread_mutex_unlock(&mutex)
    }

    /// How often the keeper looks for idle workers that died (10 ms).
    static let idleCheckInterval: UInt64 = 10_000_000

    /// Waits on `condition` (with the pool's lock held) for at most `nanoseconds`.
    private func wait(on condition: inout pthread_cond_t, nanoseconds: UInt64) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let total = UInt64(deadline.tv_nsec) + nanoseconds
        deadline.tv_sec += Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_cond_timedwait(&condition, &mutex, &deadline)
    }

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
        pthread_cond_signal(&keeperCondition)
    }

    /// Nanoseconds to wait before restarting a worker that died within a second of its start
    /// `deaths` times in a row: none for the first, then 100 ms doubling up to 5 s (a crash loop
    /// must not eat the machine; one unlucky death must not delay its replacement).
    public static func backoff(_ deaths: Int) -> UInt64 {
        guard deaths > 1 else { return 0 }
        return min(100_000_000 << UInt64(min(deaths - 2, 10)), 5_000_000_000)
    }

    /// Runs `batch` through `program` on a worker. Blocks the calling thread (a server worker
    /// thread, never an event loop) until the reply, a failure or a deadline.
    public func run(_ program: Program, batch: Batch, limits: Limits) -> Execution {
        guard let slot = checkout(program.id) else {
            return .lost("no worker process available within \(configuration.checkoutTimeout)")
        }
        let process = slot.process!
        var shipCode = slot.warm[program.id] == nil
        let metadata = batch.itemMetadata
        var outcome: Execution
        var residentBytes = 0
        var tainted: String?
        var failure: String?
        attempt: while true {
            let request = RunRequest(programID: program.id, program: shipCode ? program : nil, limits: limits, batch: batch)
            let silence = UInt64(limits.timeMilliseconds + Int(configuration.grace.millisecondsValue)) * 1_000_000
            do throws(FrameChannel.Failure) {
                try process.channel.send(type: FrameType.run, payload: request.encoded(), deadline: monotonicNanoseconds() + silence)
                while true {
                    let frame = try process.channel.receive(deadline: monotonicNanoseconds() + silence)
                    if frame.type == FrameType.heartbeat { continue }
                    if frame.type == FrameType.fetch {
                        // The worker waits; the silence deadline starts again once it has the answer.
                        let result: Result<FetchResponse, FetchFailure>
                        do {
                            let call = try FetchCall.decodeRequest(frame.payload)
                            result = configuration.fetch?(call.request, call.remainingNanoseconds)
                                ?? .failure(FetchFailure(kind: "unavailable", message: "fetch is not available in this service"))
                        } catch {
                            throw FrameChannel.Failure.system("bad fetch frame: \(error)")
                        }
                        try process.channel.send(type: FrameType.fetchResult, payload: FetchCall.encode(result),
                                                 deadline: monotonicNanoseconds() + silence)
                        continue
                    }
                    guard frame.type == FrameType.reply else { throw FrameChannel.Failure.system("unexpected frame \(frame.type)") }
                    let decoded: (reply: RunReply, residentBytes: Int, tainted: String?)
                    do { decoded = try RunReply.decode(frame.payload, metadata: metadata) } catch { throw FrameChannel.Failure.system("bad reply: \(error)") }
                    residentBytes = decoded.residentBytes
                    tainted = decoded.tainted
                    switch decoded.reply {
                    case .needsCode where !shipCode:
                        shipCode = true
                        continue attempt
                    case .needsCode:
                        throw FrameChannel.Failure.system("worker asked for code it was sent")
                    case .ran(let result):
                        outcome = .ran(result)
                    case .compileFailed(let message):
                        outcome = .compileFailed(message)
                    }
                    break attempt
                }
            } catch {
                let reason: String
                switch error {
                case .timedOut:
                    process.kill()
                    reason = "worker process \(process.pid) did not answer within the time limit of \(limits.timeMilliseconds) ms plus \(Int(configuration.grace.millisecondsValue)) ms and was stopped; it is being replaced"
                case .closed:
                    let ending = process.reap()
                    if ending == "exit status \(EngineMonitor.exitStatus)" {
                        reason = "a call ran past its time limit of \(limits.timeMilliseconds) ms in code that cannot be interrupted in-process (a loop of promise jobs such as `for (;;) await 0`, or a long native call); worker process \(process.pid) ended itself and is being replaced"
                    } else {
                        reason = "worker process \(process.pid) ended during the batch (\(ending)); it is being replaced"
                    }
                case .system(let message):
                    process.kill()
                    reason = "worker process \(process.pid) failed (\(message)) and was stopped; it is being replaced"
                }
                failure = reason
                outcome = .lost(reason)
                break attempt
            }
        }
        checkin(slot, program: program, failure: failure, residentBytes: residentBytes, tainted: tainted)
        if let tainted { return .refused(tainted) }
        return outcome
    }

    private func checkout(_ programID: String) -> Slot? {
        let deadline = monotonicNanoseconds() + UInt64(configuration.checkoutTimeout.millisecondsValue * 1_000_000)
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        while true {
            removeDeadIdleWorkers()
            let free = slots.filter { !$0.busy && $0.process != nil }
            if let chosen = free.first(where: { $0.warm[programID] != nil }) ?? free.min(by: { $0.warm.count < $1.warm.count }) {
                chosen.busy = true
                return chosen
            }
            let now = monotonicNanoseconds()
            guard now < deadline, !shuttingDown else { return nil }
            wait(on: &condition, nanoseconds: min(deadline - now, 100_000_000))
        }
    }

    private func checkin(_ slot: Slot, program: Program, failure: String?, residentBytes: Int, tainted: String?) {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
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
            pthread_mutex_unlock(&mutex)
            process.stop()
            pthread_mutex_lock(&mutex)
            pthread_cond_signal(&keeperCondition)
        } else {
            slot.quickDeaths = 0
            if !program.ephemeral {
                clock += 1
                slot.warm[program.id] = clock
            }
        }
        pthread_cond_broadcast(&condition)
    }

    /// Workers, how many are ready and busy, replacements so far and the active confinement.
    public var status: Status {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return Status(workers: slots.count, ready: slots.filter { $0.process != nil }.count,
                      busy: slots.filter { $0.busy && $0.process != nil }.count, replacements: replacements,
                      spares: spares.count, mechanisms: lastMechanisms)
    }

    /// The pids of the running workers (tests kill one on purpose).
    public var pids: [Int32] {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        return slots.compactMap { $0.process?.pid }
    }

    /// Stops every worker (each leaves when its channel closes).
    public func shutdown() {
        pthread_mutex_lock(&mutex)
        shuttingDown = true
        let processes = slots.compactMap(\.process) + spares
        for slot in slots { slot.process = nil }
        spares.removeAll()
        pthread_cond_broadcast(&keeperCondition)
        pthread_cond_broadcast(&condition)
        pthread_mutex_unlock(&mutex)
        for process in processes { process.stop(grace: 500_000_000) }
    }
}
