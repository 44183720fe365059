import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStore
import SluiceStudio

/// The routes: rudder-transformer's data-plane and tooling routes, `/metrics`, `/health`, and the
/// native `/v1` API (``NativeRoutes``), behind the response-time and memory-fence middleware.
extension SluiceService {
    /// The application; `onServerRunning` gets the bound port (useful with port 0).
    public func application(onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let logger = configuration.logger
        let metrics = self.metrics
        let pool = enginePool()
        if let interval = configuration.reloadInterval { watchFolders(every: interval, pool: pool) }
        let maximumBodyBytes = configuration.maximumBodyBytes
        let router = Router()
        router.add(middleware: ResponseTimeMiddleware(metrics: metrics, instanceID: Self.instanceID))
        let workerPool = self.processes
        let fence = configuration.memoryFence.map { MemoryFence(configuration: $0, workers: { workerPool?.pids ?? [] }) }
        router.add(middleware: CrossOriginMiddleware(logger: logger))
        if let fence { router.add(middleware: MemoryFenceMiddleware(fence: fence, metrics: metrics, logger: logger)) }
        router.get("metrics") { _, _ -> Response in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.exposition())))
        }
        let processes = self.processes
        let connections = self.connections
        let breaker = self.breaker
        let registry = self.registry
        let catalog = self.catalog
        router.get("health") { _, _ -> Response in
            Self.health(processes, connections: connections, breaker: breaker, fence: fence, reloadErrors: registry.reloadErrors,
                        store: catalog.storeStatus)
        }
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
        let nativeAPI = NativeAPI(catalog: catalog, registry: registry, pool: pool)
        NativeRoutes(api: nativeAPI, pool: pool, breaker: breaker, maximumBodyBytes: maximumBodyBytes)
            .add(to: router)
        let rolloutAPI = RolloutAPI(controller: rollouts, registry: registry)
        RolloutRoutes(api: rolloutAPI, maximumBodyBytes: maximumBodyBytes).add(to: router)
        rollouts.run(every: .seconds(1))
        let shadowAPI = ShadowAPI(api: nativeAPI, pool: pool, redact: configuration.redact)
        if configuration.studioEnabled {
            let guardian = StudioGuard(loopbackOnly: StudioGuard.isLoopback(host: configuration.host))
            StudioRoutes(workspace: StudioWorkspace(registry: registry, catalog: catalog, limits: configuration.limits),
                         api: nativeAPI, guardian: guardian, pool: pool,
                         maximumBodyBytes: maximumBodyBytes, recordings: StudioRecordings(folders: configuration.studioRecordingFolders)).add(to: router)
            StudioLiveRoutes(traffic: metrics.traffic, shadows: shadowAPI, rollouts: rolloutAPI, guardian: guardian,
                             maximumBodyBytes: maximumBodyBytes).add(to: router)
        }
        ShadowRoutes(api: shadowAPI, maximumBodyBytes: maximumBodyBytes).add(to: router)
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
