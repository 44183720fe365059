import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStore

/// Settings of `sluice serve`.
public struct ServerConfiguration: Sendable {
    public var host = "0.0.0.0"
    /// 9090, as rudder-transformer.
    public var port = 9090
    public var transformationsRoot = "transformations"
    public var librariesRoot = "libraries"
    public var limits = Limits.defaults
    /// Request bodies past this get 413. Default 100 MiB (rudder-server sends 200 events a request).
    public var maximumBodyBytes = 100 << 20
    /// How long a client may take to send a request head: from the connection's opening, or from
    /// the first byte of a later request on a kept-alive connection. Past it the server answers
    /// 408 and closes the connection (a connection that sent nothing is closed without an
    /// answer). Default 10 s.
    public var headerTimeout: Duration = .seconds(10)
    /// How long a client may take to send a request's whole body, from the end of its head (a
    /// total, not a gap between reads: a body trickled byte by byte is cut off too). Past it the
    /// request gets 408 and the connection is closed (only closed, when its response has begun).
    /// Default 60 s: a body at the 100 MiB cap must arrive at 1.7 MB/s or more.
    public var bodyTimeout: Duration = .seconds(60)
    /// How long a kept-alive connection may wait for its next request before the server closes
    /// it. Default 75 s, well past rudder-server's 5 s (when it keeps connections at all), so it is
    /// normally the client that closes an idle connection. None of the three timeouts runs while
    /// the service works on a request (user code has its own time limit) or writes its response.
    public var idleTimeout: Duration = .seconds(75)
    /// Open connections at most; past it a new connection gets 503 and is closed at once, and the
    /// ones open are served as before. Default 4096; `sluice serve` lowers it to what the open-file
    /// limit leaves room for (``OpenFileLimit/connectionCap(descriptorLimit:)``).
    public var maximumConnections = 4096
    /// Where user code runs. `sluice serve` uses ``Isolation/processes(_:)`` (the default of the
    /// service: a crash or a runaway native call costs one worker process, not the service);
    /// this type's default is ``Isolation/inProcess`` (the package's tests, embedding).
    public var isolation = Isolation.inProcess
    /// In-process: threads, each with its own engines (default: one per core). With worker
    /// processes, their count is the pool configuration's.
    public var workers = EnginePool.coreCount
    /// A rudder config backend asked for version ids the registry does not hold
    /// (`CONFIG_BACKEND_URL`); nil: unknown ids get 404 items.
    public var configBackendURL: String?
    /// Time limit of each config backend request (default 5 s); past it the group gets 809.
    public var configBackendTimeout: Duration = .seconds(5)
    /// How often the transformations and libraries folders are checked for changes (a change
    /// becomes a new version without a restart); nil turns watching off. Default 1 s.
    public var reloadInterval: Duration? = .seconds(1)
    /// Compiled versions each worker keeps (count and source bytes), least recently used evicted.
    public var cacheLimits = CacheLimits()
    /// Where the service logs (reloads, limit hits, code-source failures); keys are stable:
    /// `transformation.name`, `transformation.version`, `call.outcome`, `error`.
    public var logger = Logger(label: "sluice")
    /// When set, a sample of `/customTransform` traffic is recorded here for `sluice replay`.
    public var recording: TrafficRecorder.Options?
    /// The store of API-published transformations and libraries: a SQLite file (created on first
    /// use), or a `postgres://user:password@host:port/database` URL for a store several replicas
    /// share. Default `.sluice/registry.sqlite` (relative to the working directory).
    public var storePath = ".sluice/registry.sqlite"
    /// Where user code's `fetch` may go: the egress guard's policy (default: the built-in denials;
    /// `sluice serve` adds `SLUICE_FETCH_ALLOW` and `SLUICE_FETCH_DENY`).
    public var fetchPolicy = EgressPolicy()
    /// Timeout, response size and calls per invocation of `fetch`.
    public var fetchLimits = FetchLimits()
    /// The geolocation service `geolocation(ip)` asks (`GET <URL>/geoip/<ip>`, as rudder-transformer's
    /// `GEOLOCATION_URL`); nil (the default): `geolocation` fails with `geolocation is not available
    /// right now`. Its origin is allowed by the egress guard even on a private or loopback address.
    public var geolocationURL: String?
    /// Longest one geolocation lookup may take (default 1 s, rudder's `GEOLOCATION_TIMEOUT_IN_MS`),
    /// and never longer than what the call has left of its time limit.
    public var geolocationTimeout: Duration = .seconds(1)
    /// The circuit breaker per version on `/customTransform`: versions whose events keep ending
    /// worker processes or hitting limits are degraded, then disabled for a while (defaults in
    /// ``CircuitBreaker/Configuration``).
    public var breaker = CircuitBreaker.Configuration()
    /// Requests that run user code are refused with 503 while the service's memory is above a
    /// share of its budget (``MemoryFence``); nil: never.
    public var memoryFence: MemoryFence.Configuration? = MemoryFence.Configuration()

    public init() {}

    /// Where user code runs.
    public enum Isolation: Sendable {
        /// On the service's own threads (each with its own engines).
        case inProcess
        /// In `sluice worker` processes, confined, replaced when lost.
        case processes(WorkerPool.Configuration)
    }
}

/// The HTTP service: rudder-transformer's data-plane routes over the engine pool.
public struct SluiceService {
    public let configuration: ServerConfiguration
    /// The hosted transformations and their versions.
    public let registry: Registry
    /// The traffic recorder, when `configuration.recording` is set; `close()` it after the
    /// server stops so the last buffered events reach the files.
    public let recorder: TrafficRecorder?
    public let configBackend: ConfigBackend?
    /// API-published transformations and libraries (over the SQLite store).
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
    public static let version = SluiceVersion.current

    public init(configuration: ServerConfiguration) async throws {
        self.configuration = configuration
        connections = OpenConnections(limit: configuration.maximumConnections, metrics: metrics, logger: configuration.logger)
        registry = try Registry(transformationsRoot: configuration.transformationsRoot, librariesRoot: configuration.librariesRoot, languages: Engines.languages)
        recorder = try configuration.recording.map { try TrafficRecorder(options: $0) }
        configBackend = try configuration.configBackendURL.map { try ConfigBackend(baseURL: $0, timeout: configuration.configBackendTimeout, languages: Engines.languages) }
        catalog = Catalog(store: try await openStore(configuration.storePath), folder: registry)
        try await catalog.archive(registry.live)
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
            func name(_ slot: Int) -> Logger.MetadataValue { slot < 0 ? "spare" : "\(slot)" }
            switch event {
            case .started(let slot, let pid, let duration):
                metrics.workerEvent("started", startDuration: duration)
                logger.info("worker started", metadata: ["worker.slot": name(slot), "worker.pid": "\(pid)",
                                                          "duration_ms": "\(Int(duration.millisecondsValue.rounded()))"])
            case .promoted(let slot, let pid):
                metrics.workerEvent("promoted")
                logger.info("spare worker took a lost worker's place", metadata: ["worker.slot": name(slot), "worker.pid": "\(pid)"])
            case .failedToStart(let slot, let reason):
                metrics.workerEvent("failed_to_start")
                logger.error("worker failed to start", metadata: ["worker.slot": name(slot), "error": "\(reason)"])
            case .lost(let slot, let pid, let reason):
                metrics.workerEvent("lost")
                logger.error("worker lost", metadata: ["worker.slot": name(slot), "worker.pid": "\(pid)", "error": "\(reason)"])
            case .tainted(let slot, let pid, let reason):
                metrics.workerEvent("tainted")
                logger.warning("worker replaced", metadata: ["worker.slot": "\(slot)", "worker.pid": "\(pid)", "error": "\(reason)"])
            case .poisoned(let programID, let inputIndex, let reason):
                metrics.poisonEvent(version: programID)
                logger.warning("poison event isolated", metadata: [
                    "transformation.version": "\(programID)", "event.index": "\(inputIndex)", "error": "\(reason)",
                ])
            case .recycled(let slot, let pid, let residentBytes):
                metrics.workerEvent("recycled")
                logger.info("worker recycled", metadata: ["worker.slot": "\(slot)", "worker.pid": "\(pid)",
                                                           "resident_mb": "\(residentBytes >> 20)"])
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
        for mechanism in pool.status.mechanisms {
            logger.log(level: mechanism.active ? .info : .warning, "worker confinement",
                       metadata: ["mechanism": "\(mechanism.name)", "active": "\(mechanism.active)", "detail": "\(mechanism.detail)"])
        }
        return pool
    }

    /// `/health`: the service, its version, where user code runs, its open connections and their
    /// limit and, with worker processes, how many are ready and which confinement mechanisms are
    /// active. 503 while no worker is ready.
    static func health(_ processes: WorkerPool?, connections: OpenConnections, breaker: CircuitBreaker, fence: MemoryFence? = nil) -> Response {
        var body = Array(#"{"service":"#.utf8)
        let statuses = breaker.statuses
        let memory = fence.map { fence in
            #""memory":{"residentBytes":\#(fence.residentBytes),"fenceBytes":\#(fence.configuration.thresholdBytes),"fencing":\#(fence.isFencing)},"#
        } ?? ""
        let connectionFigures = memory + #""connections":{"open":\#(connections.count),"limit":\#(connections.limit)},"breakers":{"degraded":\#(statuses.filter { $0.state == .degraded }.count),"disabled":\#(statuses.filter { $0.state == .disabled || $0.state == .probing }.count),"versions":"#
            + String(decoding: Self.breakerJSON(statuses), as: UTF8.self) + "}"
        guard let processes else {
            body += #""UP","version":"\#(Self.version)","isolation":"in-process",\#(connectionFigures)}"#.utf8
            return Self.json(200, body)
        }
        let status = processes.status
        body += (status.ready > 0 ? #""UP""# : #""DOWN""#).utf8
        body += #","version":"\#(Self.version)","isolation":"processes",\#(connectionFigures),"workers":{"count":\#(status.workers),"ready":\#(status.ready),"busy":\#(status.busy),"spares":\#(status.spares),"replacements":\#(status.replacements)},"confinement":{"#.utf8
        for (index, mechanism) in status.mechanisms.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONString.append(mechanism.name, to: &body)
            body += #":{"active":\#(mechanism.active),"detail":"#.utf8
            JSONString.append(mechanism.detail, to: &body)
            body.append(UInt8(ascii: "}"))
        }
        body += "}}".utf8
        return Self.json(status.ready > 0 ? 200 : 503, body)
    }

    /// The breakers that are not healthy, as a JSON array (`/health`, `/v1/breakers`).
    static func breakerJSON(_ statuses: [CircuitBreaker.Status]) -> [UInt8] {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (index, status) in statuses.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += #"{"version":"#.utf8
            JSONString.append(status.version, to: &body)
            body += #","transformation":"#.utf8
            JSONString.append(status.transformation, to: &body)
            body += #","state":"\#(status.state.rawValue)","reason":"#.utf8
            JSONString.append(status.reason, to: &body)
            if let retryAt = status.retryAt { body += #","retryAt":"\#(CircuitBreaker.timestamp(retryAt))""#.utf8 }
            body += #","window":{"events":\#(status.events),"limitHits":\#(status.limitHits),"workerEndings":\#(status.workerEndings)}}"#.utf8
        }
        body.append(UInt8(ascii: "]"))
        return body
    }

    /// The application; `onServerRunning` gets the bound port (useful with port 0).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let logger = configuration.logger
        let metrics = self.metrics
        // Where user code runs is decided here, once: every handler then uses the same seam.
        let executors = EnginePool.executors(processes: processes, workers: configuration.workers, cacheLimits: configuration.cacheLimits,
                                             metrics: metrics)
        // Where versions come from, in order: the folders, the API's store, the config backend.
        let sources: [(any VersionSource)?] = [registry, catalog, configBackend]
        let versions = ChainedVersionSources(sources.compactMap { $0 }, observer: { metrics.versionLookup(from: $0, $1) })
        let resolver = WorkerResolver(versions: versions, limits: configuration.limits)
        var libraryVersions: (@Sendable ([String], Language) throws -> [LibrarySource])?
        if let configBackend {
            libraryVersions = { ids, language in try configBackend.libraries(versionIDs: ids, language: language) }
        }
        let pool = EnginePool(threads: executors.threads, makeExecutor: executors.make, resolver: resolver, metrics: metrics, logger: logger,
                              limits: configuration.limits, recorder: recorder, toolingLibraries: catalog.libraryProvider(),
                              libraryVersions: libraryVersions,
                              breaker: breaker, fetch: fetch, fetchCallsPerInvocation: configuration.fetchLimits.callsPerInvocation)
        if let interval = configuration.reloadInterval {
            let catalog = self.catalog
            let registry = self.registry
            registry.startWatching(every: interval) { change in
                metrics.reload(updated: change.updated.count)
                let updated = registry.live.filter { change.updated.contains($0.name) }
                if !updated.isEmpty {
                    Task {
                        do { try await catalog.archive(updated) } catch {
                            logger.error("cannot archive new versions in the store", metadata: ["error": "\(error)"])
                        }
                    }
                }
                for name in change.updated {
                    logger.info("new version", metadata: ["transformation.name": "\(name)", "transformation.version": "\(change.versionIDs[name] ?? "?")"])
                }
                for name in change.removed { logger.info("transformation removed", metadata: ["transformation.name": "\(name)"]) }
                for problem in change.problems { logger.warning("skipped", metadata: ["error": "\(problem)"]) }
            }
        }
        let maximumBodyBytes = configuration.maximumBodyBytes
        let router = Router()
        router.add(middleware: ResponseTimeMiddleware(metrics: metrics, instanceID: Self.instanceID))
        let workerPool = self.processes
        let fence = configuration.memoryFence.map { MemoryFence(configuration: $0, workers: { workerPool?.pids ?? [] }) }
        if let fence { router.add(middleware: MemoryFenceMiddleware(fence: fence, metrics: metrics, logger: logger)) }
        router.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        let processes = self.processes
        let connections = self.connections
        let breaker = self.breaker
        router.get("health") { _, _ -> Response in Self.health(processes, connections: connections, breaker: breaker, fence: fence) }
        // rudder-server reads these from a transformer (rudder-transformer answers them as text).
        router.get("features") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(Self.features.utf8))))
        }
        router.get("version") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(SluiceVersion.current.utf8))))
        }
        let tooLarge = WireResponse.error(413, "request body larger than \(maximumBodyBytes) bytes")
        @Sendable func collect(_ request: Request) async throws -> [UInt8]? {
            try await Self.collectBody(request, upTo: maximumBodyBytes)
        }
        router.post("customTransform") { request, _ -> Response in
            guard let body = try await collect(request) else { return Self.response(tooLarge) }
            let received = ContinuousClock.now
            let filterCode = request.headers[HTTPField.Name("X-Feature-Filter-Code")!] == "?1"
            var response = await pool.customTransform(body: body, filterCode: filterCode)
            // Time in the engines, and time from the whole body's arrival to the response (both
            // within X-Response-Time, which also counts receiving the body): their differences
            // are the service's own overhead (scripts/bench-http-latency.py reports them).
            response.headers.append(("X-Engine-Time", Self.milliseconds(response.engineTime)))
            let result = Self.response(response)
            var headers = result.headers
            headers[HTTPField.Name("X-Handling-Time")!] = Self.milliseconds(ContinuousClock.now - received)
            return Response(status: result.status, headers: headers, body: result.body)
        }
        let tooling: [(path: String, work: @Sendable (EnginePool.Worker, [UInt8]) -> WireResponse)] = [
            ("transformation/test", { worker, body in worker.tooling.testTransformation(body: body) }),
            ("transformationLibrary/test", { worker, body in worker.tooling.testLibrary(body: body) }),
            ("transformation/testRun", { worker, body in worker.tooling.testRun(body: body) }),
        ]
        for route in tooling {
            let work = route.work
            router.post(RouterPath(route.path)) { request, _ -> Response in
                guard let body = try await collect(request) else { return Self.response(tooLarge) }
                return Self.response(await pool.perform { work($0, body) })
            }
        }
        NativeRoutes(api: NativeAPI(catalog: catalog, registry: registry, pool: pool), pool: pool, breaker: breaker, maximumBodyBytes: maximumBodyBytes)
            .add(to: router)
        // No user code runs: answered on the server's own thread.
        router.post("extractLibs") { request, _ -> Response in
            guard let body = try await collect(request) else { return Self.response(tooLarge) }
            return Self.response(ToolingHandler.extractLibraries(body: body, languages: Engines.languages))
        }
        let policy = ConnectionPolicy(headerTimeout: configuration.headerTimeout, bodyTimeout: configuration.bodyTimeout,
                                      idleTimeout: configuration.idleTimeout, connections: connections, metrics: metrics, logger: logger)
        return Application(
            router: router,
            server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionGuard(policy: policy)])),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "sluice", backlog: Self.listenBacklog),
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger
        )
    }

    static var instanceID: String {
        let name = ProcessInfo.processInfo.environment["INSTANCE_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        return "\(name)/\(getpid())"
    }

    /// `GET /features`: what rudder-server reads from a transformer. Sluice runs user
    /// transformations only: no router transforms, regulations or proxy; source transforms are
    /// declared upgraded, without which rudder-server refuses to start.
    static let features = #"{"routerTransform":{},"regulations":[],"supportSourceTransformV1":true,"upgradedToSourceTransformV2":true,"supportTransformerProxyV1":false,"supportDestTransformCompactedPayloadV1":false}"#

    /// Connections the kernel queues for the server to accept (it caps this at
    /// `net.core.somaxconn`, 4096 by default since Linux 5.4). Hummingbird's default, 256, fills
    /// whenever a burst of connections outpaces accepting for a few milliseconds, and each SYN
    /// dropped then costs its client a 1 s retransmission: 2,000 connections opened one after
    /// another took 5–6 s with 256 and 0.1 s with 4096 (debug build).
    static let listenBacklog = 4096

    /// The body, or nil when it is larger than `cap`. Chunks are appended to one array sized from
    /// Content-Length, so a 200-event body is copied once (not grown, then copied out).
    static func collectBody(_ request: Request, upTo cap: Int) async throws -> [UInt8]? {
        var bytes: [UInt8] = []
        if let length = request.headers[.contentLength].flatMap({ Int($0) }) {
            guard length <= cap else { return nil }
            bytes.reserveCapacity(length)
        }
        for try await chunk in request.body {
            guard bytes.count + chunk.readableBytes <= cap else { return nil }
            bytes += chunk.readableBytesView
        }
        return bytes
    }

    /// `3.142 ms`.
    static func milliseconds(_ duration: Duration) -> String {
        String(format: "%.3f ms", duration.millisecondsValue)
    }

    static func response(_ response: WireResponse) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        for header in response.headers { headers[HTTPField.Name(header.name)!] = header.value }
        return Response(status: .init(code: response.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: response.body)))
    }

    static func json(_ status: Int, _ body: some Sequence<UInt8>) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(body))))
    }
}

/// Refuses requests that would run user code (POSTs, but not `/extractLibs`) while the memory
/// fence is up: 503, `X-Rudder-Should-Retry: true`, `X-Rudder-Error-Reason: memory_fencing`, as
/// rudder-transformer. Reads (`/health`, `/metrics`, `/features`, `/v1` listings) always pass.
struct MemoryFenceMiddleware<Context: RequestContext>: RouterMiddleware {
    let fence: MemoryFence
    let metrics: ServiceMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, request.uri.path != "/extractLibs", fence.isFencing else {
            return try await next(request, context)
        }
        let endpoint = ResponseTimeMiddleware<Context>.endpoints.contains(request.uri.path) ? request.uri.path : "other"
        metrics.fenced(endpoint: endpoint)
        logger.warning("memory fence: request refused", metadata: [
            "http.path": "\(request.uri.path)", "memory.resident_bytes": "\(fence.residentBytes)",
            "memory.threshold_bytes": "\(fence.configuration.thresholdBytes)",
        ])
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[HTTPField.Name("X-Rudder-Should-Retry")!] = "true"
        headers[HTTPField.Name("X-Rudder-Error-Reason")!] = "memory_fencing"
        return Response(status: .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(MemoryFence.message.utf8))))
    }
}

/// `X-Response-Time: <milliseconds>` on every response, and the request counted and timed per
/// endpoint (paths that are not routes count as `other`, so requests cannot mint labels).
struct ResponseTimeMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics
    /// `X-Instance-ID`, as rudder-transformer's `INSTANCE_ID/WORKER_ID`: this instance (the
    /// `INSTANCE_ID` variable, else the host name) and this process.
    let instanceID: String
    static var endpoints: Set<String> {
        ["/customTransform", "/transformation/test", "/transformation/testRun", "/transformationLibrary/test", "/extractLibs", "/health",
         "/metrics", "/features", "/version"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        // The route the router matched (its pattern: `/v1/transformations/{name}`, not the name
        // itself), known once `next` has run; paths that are no route count as `other`, so
        // requests cannot mint labels.
        func endpoint() -> String {
            // (Hummingbird names an unmatched path "NotFound".)
            if let matched = context.endpointPath, matched != "NotFound" { return matched }
            return Self.endpoints.contains(request.uri.path) ? request.uri.path : "other"
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            metrics.request(endpoint: endpoint(), status: Int(error.status.code), duration: ContinuousClock.now - start)
            throw error
        }
        let elapsed = ContinuousClock.now - start
        metrics.request(endpoint: endpoint(), status: Int(response.status.code), duration: elapsed)
        // "1.25ms": rudder-server parses it as a float after trimming "ms".
        response.headers[HTTPField.Name("X-Response-Time")!] = String(format: "%.2fms", elapsed.millisecondsValue)
        response.headers[HTTPField.Name("X-Instance-ID")!] = instanceID
        return response
    }
}
