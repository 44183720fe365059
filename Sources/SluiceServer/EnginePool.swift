#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// Runs requests on a fixed set of workers, each a thread with its own runtime (its own
/// JavaScriptCore and CPython engines) and its own compiled-code cache, so the service's event
/// loops never block on user code and requests use every core.
public final class EnginePool: Sendable {
    private let jobs: BoundedQueue<@Sendable (Worker) -> Void>
    /// Threads that take requests.
    public let workers: Int
    /// The worker processes user code runs in; nil: it runs on the threads themselves.
    public let processes: WorkerPool?
    /// Requests that may wait for a worker; past that, 503 (the server's own threads never wait).
    public let queueCapacity: Int

    /// `workers` threads (default: one per core), finding versions in `versions`; the test routes
    /// fetch the library versions they name from `configBackend`.
    public init(versions: any VersionSource, configBackend: ConfigBackend? = nil, metrics: ServiceMetrics? = nil, logger: Logger? = nil, limits: Limits = .defaults, workers: Int = EnginePool.coreCount,
                queueCapacity: Int = 256, cacheLimits: CacheLimits = .init(), recorder: TrafficRecorder? = nil,
                toolingLibraries: any LibraryProvider = NoLibraries(), processes: WorkerPool? = nil, breaker: CircuitBreaker? = nil,
                fetch: FetchHandler? = nil, fetchCallsPerInvocation: Int = FetchLimits().callsPerInvocation) {
        self.processes = processes
        // With worker processes, a thread spends most of a request waiting for its worker: two
        // threads per process let one parse and map while the other waits.
        self.workers = max(1, processes.map { $0.configuration.count + 1 } ?? workers)
        self.queueCapacity = max(1, queueCapacity)
        let jobs = BoundedQueue<@Sendable (Worker) -> Void>(capacity: self.queueCapacity)
        self.jobs = jobs
        for _ in 0..<self.workers {
            startThread {
                // Versions carry their pinned libraries; the runtime's own provider is never used.
                let runtime = Runtime(libraries: NoLibraries())
                let resolver = WorkerResolver(runtime: runtime, versions: versions, limits: limits,
                                              cache: CompiledCache(limits: cacheLimits), metrics: metrics, processes: processes)
                var customTransform = CustomTransformHandler(runtime: runtime, resolver: resolver, limits: limits, recorder: recorder,
                                                             metrics: metrics, logger: logger, pool: processes)
                customTransform.fetch = fetch
                customTransform.breaker = breaker
                customTransform.fetchCallsPerInvocation = fetchCallsPerInvocation
                var tooling = ToolingHandler(runtime: runtime, libraries: toolingLibraries, limits: limits, pool: processes)
                tooling.fetch = fetch
                tooling.fetchCallsPerInvocation = fetchCallsPerInvocation
                if let configBackend {
                    tooling.libraryVersions = { ids, language in try configBackend.libraries(versionIDs: ids, language: language) }
                }
                let worker = Worker(customTransform: customTransform, tooling: tooling, resolver: resolver)
                while true { jobs.pop()(worker) }
            }
        }
    }

    /// What a job gets: the worker's handlers, over its own runtime.
    public struct Worker: Sendable {
        public let customTransform: CustomTransformHandler
        public let tooling: ToolingHandler
        let resolver: WorkerResolver

        /// Runs one batch of a version (compiled once per worker, from its cache).
        public func run(_ version: TransformationVersion, items: [JSONText]) -> Result<BatchResult, VersionFailure> {
            switch resolver.compiled(version) {
            case .compiled(let compiled, let limits, _):
                return .success(customTransform.runtime.run(compiled, batch: Batch(items: items), limits: limits ?? customTransform.limits))
            case .isolated(let program, let limits):
                switch customTransform.pool!.run(program, batch: Batch(items: items), limits: limits) {
                case .ran(let result): return .success(result)
                case .compileFailed(let message), .refused(let message): return .failure(VersionFailure(message: message))
                case .lost(let reason): return .failure(VersionFailure(message: reason, retryable: true))
                }
            case .failed(let message), .notFound(let message), .transient(let message):
                return .failure(VersionFailure(message: message))
            }
        }
    }

    /// Why a version cannot run (it does not compile).
    public struct VersionFailure: Error, Sendable {
        public let message: String
        /// The worker process was lost (the batch may succeed when retried), not a compile error.
        public var retryable = false
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

    /// Handles a `/customTransform` body on a worker.
    public func customTransform(body: [UInt8], filterCode: Bool) async -> WireResponse {
        await perform { $0.customTransform.handle(body: body, filterCode: filterCode) }
    }

    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// A worker's view of the versions: finds a version through its `VersionSource` (the service's
/// resolver: registry, store, config backend; by content id or by name, which means its live
/// version), compiles it in the worker's own runtime with the libraries the version pinned, and
/// keeps it in the worker's cache — compile failures too, since versions are immutable.
final class WorkerResolver: VersionResolver, @unchecked Sendable {
    // @unchecked: used only on its worker's thread.
    private let runtime: Runtime
    private let versions: any VersionSource
    private let limits: Limits
    private let metrics: ServiceMetrics?
    private let processes: WorkerPool?
    let cache: CompiledCache<VersionResolution>

    init(runtime: Runtime, versions: any VersionSource, limits: Limits,
         cache: CompiledCache<VersionResolution>, metrics: ServiceMetrics? = nil, processes: WorkerPool? = nil) {
        self.processes = processes
        self.metrics = metrics
        self.runtime = runtime
        self.versions = versions
        self.limits = limits
        self.cache = cache
    }

    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution {
        switch versions.lookUp(versionID, libraryVersionIDs: libraryVersionIDs) {
        case .found(let version): compiled(version)
        case .notFound(let message): .notFound(message)
        case .unavailable(let message): .transient(message)
        case .invalid(let message): .failed(message)
        }
    }

    /// `version` compiled in this worker, from the cache or compiled now; with worker processes,
    /// the version as a program for them (they compile it and cache it themselves).
    func compiled(_ version: TransformationVersion) -> VersionResolution {
        if processes != nil {
            return .isolated(Program(id: version.id, source: version.source, libraries: version.libraries),
                             limits: version.limits.applied(to: limits))
        }
        if let cached = cache.value(for: version.id) {
            metrics?.cacheLookup(hit: true)
            return cached
        }
        metrics?.cacheLookup(hit: false)
        let resolution: VersionResolution
        let start = ContinuousClock.now
        do {
            resolution = .compiled(try runtime.compile(version.source, libraries: version.libraryProvider),
                                   limits: version.limits.applied(to: limits), id: version.id)
        } catch {
            resolution = .failed(error.message)
        }
        var failed = false
        if case .failed = resolution { failed = true }
        metrics?.compiled(transformation: version.name, version: version.id, duration: ContinuousClock.now - start, failed: failed)
        let evictions = cache.evictions
        cache.insert(resolution, for: version.id, bytes: version.source.code.utf8.count + version.libraries.reduce(0) { $0 + $1.code.utf8.count })
        metrics?.cacheEvictions(cache.evictions - evictions)
        return resolution
    }
}
