#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import Synchronization

/// This process's shadow runs (``ShadowRun``: at most one per transformation, in memory — each
/// replica has its own), and the hook every live batch passes through once its results are known
/// (``offer(_:batch:live:executor:)``).
///
/// A sampled batch runs through the candidate only on spare capacity, else it is dropped and
/// counted (never queued): not while another candidate batch runs (one at a time per process),
/// not past the run's CPU share, and not unless the live executor has a spare worker
/// (``BatchExecutor/hasSpareWorker``: with worker processes, one stays idle for live batches).
/// With worker processes it then runs on a thread of its own, in a worker of its own started at
/// the lowest CPU priority (``makeCandidateExecutor``): live work keeps every engine thread and
/// gets the cores first. In process it runs on an engine thread that is idle with no request
/// waiting (``EnginePool/performIfIdle(_:)``). Either way the live response, already computed,
/// does not wait for it.
public final class ShadowRuns: @unchecked Sendable {
    // @unchecked: `runs` is guarded by `lock`; `pool` is set once, before any batch is offered.
    private let lock = ThreadLock()
    private var runs: [String: ShadowRun] = [:]
    private let inFlight = Atomic<Int>(0)
    private weak var pool: EnginePool?
    /// Makes the executor candidate batches run on (set at start-up; with worker processes, a
    /// worker of its own at the lowest CPU priority); nil: the engine thread's own executor.
    var makeCandidateExecutor: (@Sendable () throws -> any BatchExecutor)?
    /// Made on the first start (under `lock`).
    private var candidateExecutor: (any BatchExecutor)?
    let metrics: ServiceMetrics?
    let logger: Logger?
    /// Candidate batches running at once in this process, at most.
    public static let maximumInFlight = 1

    /// The service's limits (a candidate's own apply over them).
    let limits: Limits
    /// Candidate batches for the candidates' own executor, taken by one thread.
    private let candidateJobs = BoundedQueue<@Sendable () -> Void>(capacity: 1)

    init(metrics: ServiceMetrics?, logger: Logger?, limits: Limits) {
        self.metrics = metrics
        self.logger = logger
        self.limits = limits
    }

    /// The engine pool candidate batches run on (set by the pool itself).
    func attach(_ pool: EnginePool) {
        self.pool = pool
    }

    /// Makes the candidates' executor, once (a worker process starts: call it off the event
    /// loops). A failure is logged, and candidates then run on the engine threads' executor.
    public func prepareCandidateExecutor() {
        preparing.withLock {
            guard let make = lock.withLock({ candidateExecutor == nil ? makeCandidateExecutor : nil }) else { return }
            do {
                let executor = try make()
                lock.withLock { candidateExecutor = executor }
                let jobs = candidateJobs
                let logger = self.logger
                startThread {
                    // This thread's share of the work (sending the batch, reading and comparing the
                    // results) yields to live requests too: nice 19, for this thread only (Linux).
                    // (glibc's gettid() is not visible from Swift: /proc/thread-self is `<pid>/task/<tid>`.)
                    let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? ""
                    if let thread = link.split(separator: "/").last.flatMap({ id_t($0) }),
                       setpriority(__priority_which_t(PRIO_PROCESS.rawValue), thread, 19) != 0 {
                        logger?.warning("shadow runs' thread keeps its priority", metadata: ["error": "\(SystemError("setpriority", code: errno))"])
                    }
                    while true { jobs.pop()() }
                }
            } catch {
                logger?.warning("shadow runs' own worker did not start; candidates run on the live workers", metadata: ["error": "\(error)"])
                lock.withLock { makeCandidateExecutor = nil }
            }
        }
    }

    /// Held while the candidates' executor is made (one at a time).
    private let preparing = ThreadLock()

    /// Starts `run`, unless its transformation has one already (which is returned instead).
    public func start(_ run: ShadowRun) -> ShadowRun? {
        let existing: ShadowRun? = lock.withLock {
            if let existing = runs[run.transformation] { return existing }
            runs[run.transformation] = run
            return nil
        }
        if existing == nil {
            logger?.info("shadow run started", metadata: [
                "transformation.name": "\(run.transformation)", "transformation.version": "\(run.liveVersion)",
                "shadow.candidate": "\(run.candidate.id)", "shadow.sample_rate": "\(run.settings.sampleRate)",
                "shadow.max_cpu_share": "\(run.settings.maxCpuShare)",
            ])
        }
        return existing
    }

    /// The transformation's shadow run, if it has one.
    public func run(for transformation: String) -> ShadowRun? {
        lock.withLock { runs[transformation] }
    }

    /// Stops and removes the transformation's shadow run; its final report, or nil when it had none.
    public func stop(_ transformation: String) -> ShadowReport? {
        guard let run = lock.withLock({ runs.removeValue(forKey: transformation) }) else { return nil }
        let report = run.stop()
        logger?.info("shadow run stopped", metadata: [
            "transformation.name": "\(transformation)", "shadow.candidate": "\(report.candidate)",
            "shadow.batches_compared": .stringConvertible(report.batchesCompared),
            "shadow.batches_skipped": .stringConvertible(report.skipped.values.reduce(0, +)),
            "shadow.events_compared": .stringConvertible(report.summary.events),
            "shadow.events_differing": .stringConvertible(report.summary.events - report.summary.unchanged),
        ])
        return report
    }

    /// A live batch of `program` ran and gave `live` (credential values already redacted): when
    /// its transformation has a shadow run, `program` is not the candidate and the batch is
    /// sampled, the candidate runs on the same batch on spare capacity (``ShadowRuns``). Returns
    /// at once: the caller's response never waits for the candidate.
    public func offer(_ program: Program, batch: Batch, live: BatchResult, executor: any BatchExecutor) {
        guard let (run, dedicated) = lock.withLock({ runs.isEmpty ? nil : runs[program.source.name].map { ($0, candidateExecutor) } }),
              program.id != run.candidate.id, run.sample() else { return }
        guard let pool else { return }
        func skip(_ reason: ShadowRun.Skip) {
            run.skip(reason)
            self.metrics?.shadowSkipped(transformation: run.transformation, reason: reason.rawValue)
        }
        guard inFlight.wrappingAdd(1, ordering: .acquiringAndReleasing).oldValue < Self.maximumInFlight else {
            releaseSlot()
            return skip(.inFlight)
        }
        guard run.withinCpuShare() else {
            releaseSlot()
            return skip(.cpuShare)
        }
        let liveVersion = program.id
        let job: @Sendable (any BatchExecutor, Limits) -> Void = { [self] candidateExecutor, limits in
            let start = ContinuousClock.now
            var execution = candidateExecutor.run(Program(run.candidate), batch: batch, limits: run.candidate.limits.applied(to: limits))
            let elapsed = ContinuousClock.now - start
            // The candidate has run: the next may start while this batch is compared.
            releaseSlot()
            if case .ran(let result) = execution {
                execution = .ran(CustomTransformHandler.redacting(batch.credentialValues, in: result))
            }
            let classes = run.record(inputs: batch.items, liveVersion: liveVersion, live: live, candidate: execution, batch: batch,
                                     elapsed: elapsed, cores: EnginePool.coreCount)
            metrics?.shadowCompared(transformation: run.transformation, events: batch.items.count, classes: classes)
        }
        let started: Bool
        if !executor.hasSpareWorker {
            started = false
        } else if let dedicated {
            // Its own worker, waited on by its own thread: no engine thread is taken from live requests.
            let limits = self.limits
            started = candidateJobs.tryPush { job(dedicated, limits) }
        } else {
            started = pool.performIfIdle { worker in job(worker.customTransform.executor, worker.customTransform.limits) }
        }
        if !started {
            releaseSlot()
            skip(.busy)
        }
    }

    private func releaseSlot() {
        inFlight.subtract(1, ordering: .acquiringAndReleasing)
    }
}
