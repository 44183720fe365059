import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStore

/// The HTTP service: rudder-transformer's data-plane routes over the engine pool.
public struct SluiceService {
    public let configuration: ServerConfiguration
    /// The hosted transformations and their versions.
    public let registry: Registry
    /// The traffic recorder, when `configuration.recording` is set; `close()` it after the
    /// server stops so the last buffered events reach the files.
    public let recorder: TrafficRecorder?
    public let configBackend: ConfigBackend?
    /// API-published transformations and libraries (over the SQLite or PostgreSQL store); it
    /// follows the store's changes until `catalog.stopFollowing()`.
    public let catalog: Catalog
    public let metrics = ServiceMetrics()
    /// The HTTP connections open now, under ``ServerConfiguration/maximumConnections``.
    public let connections: OpenConnections
    /// The worker processes, with ``ServerConfiguration/Isolation/processes(_:)``; call
    /// `shutdown()` on it after the server stops.
    public let processes: WorkerPool?
    /// Performs user code's fetches behind the egress guard, counted in the metrics.
    public let fetch: FetchHandler
    /// The circuit breaker of `/customTransform` (its state is in `/health` and `/v1/breakers`).
    public let breaker: CircuitBreaker
    /// Canary rollouts of API transformations (`/v1/transformations/{name}/rollout`).
    public let rollouts: RolloutController
    public static let version = SluiceVersion.current

    public init(configuration: ServerConfiguration) async throws {
        self.configuration = configuration
        connections = OpenConnections(limit: configuration.maximumConnections, metrics: metrics, logger: configuration.logger)
        registry = try Registry(transformationsRoot: configuration.transformationsRoot, librariesRoot: configuration.librariesRoot, languages: Engines.languages)
        recorder = try configuration.recording.map { try TrafficRecorder(options: $0) }
        configBackend = try configuration.configBackendURL.map { try ConfigBackend(baseURL: $0, timeout: configuration.configBackendTimeout, languages: Engines.languages, transport: ConfigBackend.fetcherTransport()) }
        let store = try await openStore(configuration.storePath, logger: configuration.logger)
        if !(store is SQLiteStore) { configuration.logger.info("API store connected", metadata: ["store.location": "\(store.location)"]) }
        catalog = Catalog(store: store, folder: registry)
        await catalog.startFollowing(observer: Self.storeObserver(logger: configuration.logger, metrics: metrics, location: store.location))
        // Not a reason to create the store: a service that never publishes or sees a change leaves no file.
        try await catalog.archive(registry.live, createStore: false)
        rollouts = RolloutController(catalog: catalog, metrics: self.metrics, logger: configuration.logger, automaticActor: "sluice:" + Self.instanceID)
        let fetcher = Fetcher(policy: configuration.fetchPolicy, limits: configuration.fetchLimits)
        let metrics = self.metrics
        let logger = configuration.logger
        breaker = CircuitBreaker(configuration: configuration.breaker, observer: { transition in
            let status = transition.status
            metrics.breakerTransition(to: status.state.rawValue)
            var metadata: Logger.Metadata = [
                "transformation.name": "\(status.transformation)", "transformation.version": "\(status.version)",
                "breaker.from": "\(transition.from.rawValue)", "breaker.state": "\(status.state.rawValue)", "reason": "\(status.reason)",
            ]
            if let retryAt = status.retryAt { metadata["breaker.retry_at"] = "\(CircuitBreaker.timestamp(retryAt))" }
            switch status.state {
            case .disabled: logger.error("transformation version disabled", metadata: metadata)
            case .degraded: logger.warning("transformation version degraded", metadata: metadata)
            case .probing: logger.info("transformation version probed", metadata: metadata)
            case .healthy: logger.notice("transformation version healthy again", metadata: metadata)
            }
        })
        let geolocation = configuration.geolocationURL.map { url in
            Self.geolocationFetcher(url: url, timeout: configuration.geolocationTimeout, fetchPolicy: configuration.fetchPolicy,
                                    fetchLimits: configuration.fetchLimits)
        }
        fetch = { request, remaining in
            let start = ContinuousClock.now
            if request.purpose == .geolocation {
                let result = geolocation.map { $0(request.url, remaining) }
                    ?? .failure(FetchFailure(kind: "unavailable", message: Geolocation.unavailableMessage))
                metrics.geolocation(outcome: Self.outcome(of: result), duration: ContinuousClock.now - start)
                return result
            }
            let result = fetcher.fetch(request, remainingNanoseconds: remaining)
            let outcome: String = switch result {
            case .success: "ok"
            case .failure(let failure): failure.kind
            }
            metrics.fetch(outcome: outcome, duration: ContinuousClock.now - start)
            return result
        }
        if case .processes(var poolConfiguration) = configuration.isolation {
            poolConfiguration.fetch = fetch
            // The folder's transformations run from the first request: their languages start with the workers.
            poolConfiguration.languages.formUnion(registry.live.map(\.source.language))
            processes = try await Self.startProcesses(poolConfiguration, logger: configuration.logger, metrics: metrics)
        } else {
            processes = nil
        }
    }

    static func outcome(of result: Result<FetchResponse, FetchFailure>) -> String {
        switch result {
        case .success(let response): response.status == 200 ? "ok" : "status"
        case .failure(let failure): failure.kind
        }
    }

    /// Looks an address up at the operator's geolocation service through the egress guard (with
    /// the service's own origin allowed), with rudder-transformer's texts for a timeout.
    static func geolocationFetcher(url: String, timeout: Duration, fetchPolicy: EgressPolicy, fetchLimits: FetchLimits)
        -> @Sendable (String, UInt64) -> Result<FetchResponse, FetchFailure> {
        let base = url.hasSuffix("/") ? String(url.dropLast()) : url
        var policy = fetchPolicy
        if let origin = EgressPolicy.Origin(url: base) { policy.allowedOrigins.append(origin) }
        var limits = fetchLimits
        limits.timeout = timeout
        let fetcher = Fetcher(policy: policy, limits: limits)
        return { address, remaining in
            let target = base + "/geoip/" + address
            let result = fetcher.fetch(FetchRequest(url: target), remainingNanoseconds: remaining)
            if case .failure(let failure) = result, failure.kind == "timeout" {
                return .failure(FetchFailure(kind: "timeout", message: "network timeout at: \(target)"))
            }
            return result
        }
    }

    /// Starts the worker processes on a thread of their own (starting blocks until each says hello).
    static func startProcesses(_ configuration: WorkerPool.Configuration, logger: Logger, metrics: ServiceMetrics) async throws -> WorkerPool {
        let observer: @Sendable (WorkerPool.Event) -> Void = { event in
            func name(_ slot: Int) -> Logger.MetadataValue { slot < 0 ? "spare" : .stringConvertible(slot) }
            switch event {
            case .started(let slot, let pid, let duration):
                metrics.workerEvent("started", startDuration: duration)
                logger.info("worker started", metadata: ["worker.slot": name(slot), "worker.pid": .stringConvertible(pid),
                                                          "duration_ms": .stringConvertible(Int(duration.millisecondsValue.rounded()))])
            case .promoted(let slot, let pid):
                metrics.workerEvent("promoted")
                logger.info("spare worker took a lost worker's place", metadata: ["worker.slot": name(slot), "worker.pid": .stringConvertible(pid)])
            case .widened(let slot, let pid, let languages):
                metrics.workerEvent("widened")
                logger.info("worker replaced by one that starts more languages", metadata: [
                    "worker.slot": name(slot), "worker.pid": .stringConvertible(pid), "worker.languages": "\(languages.map(\.rawValue).joined(separator: ","))",
                ])
            case .failedToStart(let slot, let reason):
                metrics.workerEvent("failed_to_start")
                logger.error("worker failed to start", metadata: ["worker.slot": name(slot), "error": "\(reason)"])
            case .lost(let slot, let pid, let reason):
                metrics.workerEvent("lost")
                logger.error("worker lost", metadata: ["worker.slot": name(slot), "worker.pid": .stringConvertible(pid), "error": "\(reason)"])
            case .tainted(let slot, let pid, let reason):
                metrics.workerEvent("tainted")
                logger.warning("worker replaced", metadata: ["worker.slot": .stringConvertible(slot), "worker.pid": .stringConvertible(pid), "error": "\(reason)"])
            case .poisoned(let programID, let inputIndex, let reason):
                metrics.poisonEvent(version: programID)
                logger.warning("poison event isolated", metadata: [
                    "transformation.version": "\(programID)", "event.index": .stringConvertible(inputIndex), "error": "\(reason)",
                ])
            case .recycled(let slot, let pid, let residentBytes):
                metrics.workerEvent("recycled")
                logger.info("worker recycled", metadata: ["worker.slot": .stringConvertible(slot), "worker.pid": .stringConvertible(pid),
                                                           "resident_mb": .stringConvertible(residentBytes >> 20)])
            case .compiled(let programID, let transformation, let report):
                metrics.workerCompile(transformation: transformation, version: programID, report: report)
            }
        }
        let pool = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<WorkerPool, any Error>) in
            startThread {
                do {
                    continuation.resume(returning: try WorkerPool(configuration: configuration, observer: observer))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        // Each mechanism's detail at debug (one that should have applied and did not is a
        // warning), and one summary.
        let mechanisms = pool.status.mechanisms
        for mechanism in mechanisms {
            let expected = mechanism.active || Confinement.notAppliedByDesign.contains(mechanism.name)
            logger.log(level: expected ? .debug : .warning, "worker confinement",
                       metadata: ["mechanism": "\(mechanism.name)", "active": .stringConvertible(mechanism.active), "detail": "\(mechanism.detail)"])
        }
        logger.info("worker processes confined", metadata: [
            "workers": .stringConvertible(configuration.count),
            "confinement.active": .array(mechanisms.filter(\.active).map { "\($0.name)" }),
            "confinement.inactive": .array(mechanisms.filter { !$0.active }.map { "\($0.name)" }),
        ])
        return pool
    }

}
