import Foundation
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStudio

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
    /// Input paths whose values shadow-run examples show as `"[redacted]"` (`--record-redact`,
    /// the recording rules: a recording gets them in ``recording``'s `redact`). Default none.
    public var redact: [String] = []
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

    /// Studio (docs/studio.md) at `/`: true on, false off, nil (the default) on only when
    /// ``host`` is a loopback address — Studio edits and runs code, so a public listener never
    /// exposes it unless asked to.
    public var studio: Bool?

    /// Whether Studio is served (``studio``, or by default whether the listener is loopback).
    public var studioEnabled: Bool { studio ?? StudioGuard.isLoopback(host: host) }

    /// Folders of recordings Studio may run slices of (`--studio-recordings`; `sluice studio DIR`:
    /// `DIR/recordings`), besides ``recording``'s folder.
    public var studioRecordings: [String] = []

    /// Every folder Studio lists recordings from: ``studioRecordings``, then the `--record` folder.
    public var studioRecordingFolders: [String] { studioRecordings + (recording.map { [$0.directory] } ?? []) }

    public init() {}

    /// Where user code runs.
    public enum Isolation: Sendable {
        /// On the service's own threads (each with its own engines).
        case inProcess
        /// In `sluice worker` processes, confined, replaced when lost.
        case processes(WorkerPool.Configuration)
    }
}
