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
/// not past the run's CPU share, and not unless an engine thread is idle with no request waiting
/// and the executor has a spare worker (``BatchExecutor/hasSpareWorker``: with worker
/// processes, one stays idle for live batches). It runs on that idle thread, so the live response, already
/// computed, is not held back by it.
public final class ShadowRuns: @unchecked Sendable {
    // @unchecked: `runs` is guarded by `lock`; `pool` is set once, before any batch is offered.
    private let lock = ThreadLock()
    private var runs: [String: ShadowRun] = [:]
    private let inFlight = Atomic<Int>(0)
    private weak var pool: EnginePool?
    let metrics: ServiceMetrics?
    let logger: Logger?
    /// Candidate batches running at once in this process, at most.
    public static let maximumInFlight = 1

    init(metrics: ServiceMetrics?, logger: Logger?) {
        self.metrics = metrics
        self.logger = logger
    }

    /// The engine pool candidate batches run on (set by the pool itself).
    func attach(_ pool: EnginePool) {
        self.pool = pool
    }

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
        guard let run = lock.withLock({ runs.isEmpty ? nil : runs[program.source.name] }), program.id != run.candidate.id, run.sample() else { return }
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
        let metrics = self.metrics
        let liveVersion = program.id
        let started = executor.hasSpareWorker && pool.performIfIdle { [self] worker in
            defer { releaseSlot() }
            let handler = worker.customTransform
            let start = ContinuousClock.now
            var execution = handler.executor.run(Program(run.candidate), batch: batch, limits: run.candidate.limits.applied(to: handler.limits))
            if case .ran(let result) = execution {
                execution = .ran(CustomTransformHandler.redacting(batch.credentialValues, in: result))
            }
            let classes = run.record(inputs: batch.items, liveVersion: liveVersion, live: live, candidate: execution, batch: batch,
                                     elapsed: ContinuousClock.now - start, cores: EnginePool.coreCount)
            metrics?.shadowCompared(transformation: run.transformation, events: batch.items.count, classes: classes)
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
