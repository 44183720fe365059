#if canImport(Glibc)
import Glibc
#endif
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import Synchronization

/// Runs requests on a fixed set of threads, so the service's event loops never block on user
/// code. Each thread has its own handlers over the executor the service chose at start-up
/// (``EnginePool/executors(processes:workers:cacheLimits:metrics:)``): the shared worker pool, or
/// an in-process executor of its own (its own engines and compiled-code cache).
public final class EnginePool: Sendable {
    private let jobs: BoundedQueue<@Sendable (Worker) -> Void>
    /// Threads that take requests.
    public let workers: Int
    /// Requests that may wait for a worker; past that, 503 (the server's own threads never wait).
    public let queueCapacity: Int
    /// Where the handlers count what they run.
    public let metrics: ServiceMetrics?
    /// This process's shadow runs: live batches are offered to them after they ran.
    public let shadows: ShadowRuns
    /// Threads running a job now (shadow batches run only when one is idle).
    private let busyThreads = Atomic<Int>(0)

    /// Where user code runs, chosen once: with worker processes every thread shares the pool
    /// (two threads per process let one parse and map while the other waits); in process, each
    /// of `workers` threads (default: one per core) gets an executor of its own.
    public static func executors(processes: WorkerPool?, workers: Int = EnginePool.coreCount, cacheLimits: CacheLimits = .init(),
                                 metrics: ServiceMetrics? = nil) -> (threads: Int, make: @Sendable () -> any BatchExecutor) {
        if let processes { return (processes.configuration.count + 1, { processes }) }
        return (workers, { InProcessExecutor(runtime: Runtime(libraries: NoLibraries()), cacheLimits: cacheLimits, observer: metrics) })
    }

    /// `threads` threads, each with an executor from `makeExecutor` (see ``executors(processes:workers:cacheLimits:metrics:)``).
    public init(threads: Int, makeExecutor: @escaping @Sendable () -> any BatchExecutor, resolver: any VersionResolver,
                metrics: ServiceMetrics? = nil, logger: Logger? = nil, limits: Limits = .defaults, queueCapacity: Int = 256,
                recorder: TrafficRecorder? = nil, toolingLibraries: any LibraryProvider = NoLibraries(),
                libraryVersions: (@Sendable ([String], Language) throws -> [LibrarySource])? = nil, breaker: CircuitBreaker? = nil,
                fetch: FetchHandler? = nil, fetchCallsPerInvocation: Int = FetchLimits().callsPerInvocation,
                rollouts: RolloutController? = nil) {
        workers = max(1, threads)
        self.metrics = metrics
        self.queueCapacity = max(1, queueCapacity)
        let jobs = BoundedQueue<@Sendable (Worker) -> Void>(capacity: self.queueCapacity)
        self.jobs = jobs
        let shadows = ShadowRuns(metrics: metrics, logger: logger, limits: limits)
        self.shadows = shadows
        shadows.attach(self)
        for _ in 0..<workers {
            startThread {
                let executor = makeExecutor()
                var customTransform = CustomTransformHandler(executor: executor, resolver: resolver, limits: limits, recorder: recorder,
                                                             metrics: metrics, logger: logger)
                customTransform.fetch = fetch
                customTransform.breaker = breaker
                customTransform.rollouts = rollouts
                customTransform.fetchCallsPerInvocation = fetchCallsPerInvocation
                customTransform.shadows = shadows
                var tooling = ToolingHandler(executor: executor, libraries: toolingLibraries, limits: limits)
                tooling.fetch = fetch
                tooling.fetchCallsPerInvocation = fetchCallsPerInvocation
                tooling.libraryVersions = libraryVersions
                let worker = Worker(customTransform: customTransform, tooling: tooling)
                while true {
                    let job = jobs.pop()
                    self.busyThreads.add(1, ordering: .relaxed)
                    job(worker)
                    self.busyThreads.subtract(1, ordering: .relaxed)
                }
            }
        }
    }

    /// What a job gets: the thread's handlers, over its executor.
    public struct Worker: Sendable {
        public let customTransform: CustomTransformHandler
        public let tooling: ToolingHandler

        /// Runs one batch of a version under its own limits (applied to the service's); a batch
        /// with events is counted in the version's metrics (an empty one only compiles).
        public func run(_ version: TransformationVersion, items: [JSONText]) -> Execution {
            let start = ContinuousClock.now
            let execution = customTransform.executor.run(Program(version), batch: Batch(items: items),
                                                         limits: version.limits.applied(to: customTransform.limits))
            if !items.isEmpty, let metrics = customTransform.metrics {
                metrics.batch(transformation: version.name, version: version.id, inputs: items.count, result: execution.results(for: Batch(items: items)),
                              duration: ContinuousClock.now - start)
            }
            if !items.isEmpty, case .ran(let result) = execution {
                customTransform.shadows?.offer(Program(version), batch: Batch(items: items), live: result, executor: customTransform.executor)
            }
            return execution
        }

        /// Why `version` does not compile, or nil when it does — or when it could not be tried
        /// (no worker free, a lost worker: that says nothing about the code).
        public func compileFailure(_ version: TransformationVersion) -> String? {
            guard case .failed(let failure) = run(version, items: []), failure.kind == .compile else { return nil }
            return failure.message
        }
    }

    /// Runs `work` on a worker; 503 when `queueCapacity` requests are already waiting for one
    /// (the server's own threads never wait for user code).
    public func perform(_ work: @escaping @Sendable (Worker) -> WireResponse) async -> WireResponse {
        let capacity = queueCapacity
        return await withCheckedContinuation { continuation in
            let queued = jobs.tryPush { worker in continuation.resume(returning: work(worker)) }
            if !queued {
                continuation.resume(returning: .error(503, "all workers busy and \(capacity) requests waiting; retry later"))
            }
        }
    }

    /// Runs `work` on a worker and returns its value; nil when the queue is full.
    public func performValue<T: Sendable>(_ work: @escaping @Sendable (Worker) -> T) async -> T? {
        await withCheckedContinuation { continuation in
            let queued = jobs.tryPush { worker in continuation.resume(returning: work(worker)) }
            if !queued { continuation.resume(returning: nil) }
        }
    }

    /// Runs `work` on a thread that is idle now, unless none is or requests are waiting for
    /// one: false then, and nothing is queued (work that must only use spare capacity).
    func performIfIdle(_ work: @escaping @Sendable (Worker) -> Void) -> Bool {
        guard busyThreads.load(ordering: .relaxed) < workers, jobs.isEmpty else { return false }
        return jobs.tryPush(work)
    }

    /// Handles a `/customTransform` body on a worker.
    public func customTransform(body: [UInt8], filterCode: Bool) async -> WireResponse {
        await perform { $0.customTransform.handle(body: body, filterCode: filterCode) }
    }

    public static var coreCount: Int { ProcessorBudget.cores }
}
