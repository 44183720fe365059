import Foundation
import Prometheus
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// The service's metrics, recorded into its own Prometheus registry (no global bootstrap, so
/// several services — tests — can live in one process) and exposed at `GET /metrics`, each
/// family with a `# HELP` line (``help``). Names and labels are stable; docs/http.md lists them.
public final class ServiceMetrics: CompileObserver, Sendable {
    public let registry: PrometheusCollectorRegistry
    /// The last minutes of each transformation's events, errors, limit hits and per-event times,
    /// from the same batches as the counters below (Studio's live charts).
    public let traffic = TrafficHistory()
    private let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500),
        .seconds(5), .seconds(10),
    ]

    public init() {
        registry = PrometheusCollectorRegistry()
        gauge("sluice_http_connections_open", [], 0)
        gauge("sluice_reload_errors", [], 0)
        gauge("sluice_store_listening", [], 0)
    }

    /// The `# HELP` text of every family the service records.
    static let help: [String: String] = [
        "sluice_events_in_total": "Events a version was run on (/customTransform and /v1 runs), by transformation and version.",
        "sluice_events_out_total": "Output events a version produced.",
        "sluice_events_dropped_total": "Events a version dropped.",
        "sluice_events_failed_total": "Events that failed, by failure kind (docs/outcomes.md).",
        "sluice_limit_hits_total": "Events that hit the time or memory limit, by limit.",
        "sluice_batch_duration_seconds": "Time to run one batch of a version.",
        "sluice_v1_runs_total": "Streamed runs by name (POST /v1/transformations/{name}/run), by transformation.",
        "sluice_shadow_sampled_events_total": "Live events run through a shadow run's candidate and compared, by transformation.",
        "sluice_shadow_skipped_batches_total": "Sampled batches a shadow run dropped, by transformation and reason (busy, in_flight, cpu_share).",
        "sluice_shadow_events_total": "Compared events of shadow runs, by transformation and outcome (unchanged, changed, newly_dropped, newly_produced, newly_failing, newly_passing).",
        "transformer_user_transform_requests": "Event groups run, under rudder-transformer's name.",
        "transformer_user_transform_input_events": "Events in, under rudder-transformer's name.",
        "transformer_user_transform_output_events": "Events out, under rudder-transformer's name.",
        "transformer_user_transform_errors": "Events that failed, under rudder-transformer's name and labels.",
        "transformer_user_transform_function_latency": "Time to run a group, under rudder-transformer's name and labels.",
        "sluice_unresolved_events_total": "Events whose group never ran (unknown version, compile error, outage, lost worker, refused), by kind and item status.",
        "sluice_compile_duration_seconds": "Time to compile a version (in a worker process, or in process), by transformation and version.",
        "sluice_compile_failures_total": "Versions that failed to compile, by transformation and version.",
        "sluice_compiled_cache_lookups_total": "Compiled-code cache lookups, by result (hit, miss), from every worker.",
        "sluice_compiled_cache_evictions_total": "Compiled versions evicted from a cache to make room, from every worker.",
        "sluice_worker_events_total": "Worker process events (started, promoted, widened, failed_to_start, lost, tainted, recycled).",
        "sluice_worker_start_seconds": "Time for a worker process to start, warm up, confine itself and say hello.",
        "sluice_poison_events_total": "Events whose call forced their worker process to be ended, by version.",
        "sluice_breaker_transitions_total": "Circuit breaker state changes, by the state entered.",
        "sluice_fetch_total": "Fetches by user code, by outcome.",
        "sluice_fetch_duration_seconds": "Time of a fetch by user code, by outcome.",
        "transformer_fetch_call_duration": "Time of a fetch by user code, under rudder-transformer's name.",
        "sluice_geolocation_total": "geolocation(ip) lookups, by outcome.",
        "sluice_geolocation_duration_seconds": "Time of a geolocation(ip) lookup, by outcome.",
        "transformer_geo_call_duration": "Time of a geolocation lookup, under rudder-transformer's name.",
        "sluice_config_backend_lookups_total": "Version lookups at the rudder config backend, by outcome.",
        "sluice_memory_fenced_requests_total": "Requests refused by the memory fence, by endpoint.",
        "sluice_http_requests_total": "HTTP requests answered, by endpoint and status.",
        "sluice_http_request_duration_seconds": "Time to answer an HTTP request, by endpoint.",
        "sluice_http_connections_open": "HTTP connections open now.",
        "sluice_http_connections_rejected_total": "Connections turned away past the connection cap.",
        "sluice_http_connection_timeouts_total": "Connections closed by a timeout (header, body, idle).",
        "sluice_registry_reloads_total": "Reloads of the transformations and libraries folders that changed something.",
        "sluice_registry_versions_created_total": "New live versions from the folders.",
        "sluice_reload_errors": "Folder transformations whose changed files do not compile or load now (their last good version is served).",
        "sluice_reload_failures_total": "Changed folder transformations found not to compile or load, by transformation.",
        "sluice_store_notifications_total": "Live-version changes heard from the PostgreSQL store (LISTEN/NOTIFY), by kind (transformation, library).",
        "sluice_store_listening": "1 while the PostgreSQL store's changes are pushed (listening), 0 while polling (or with SQLite).",
        "sluice_store_polled_changes_total": "Live-version changes found by reading the store's live set (at start, on reconnecting, while polling) rather than heard.",
        "sluice_rollout_events_total": "Events of a transformation with a canary rollout in progress, by version and role (live, candidate).",
        "sluice_rollout_rollbacks_total": "Canary rollouts rolled back automatically, by transformation.",
        "sluice_rollout_changes_total": "Canary rollout changes this replica made (start, step, promote, rollback, abort, supersede), by transformation.",
    ]

    private func descriptor(_ name: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: Self.help[name] ?? "")
    }

    func count(_ name: String, _ labels: [(String, String)], by amount: Int = 1) {
        guard amount > 0 else { return }
        registry.makeCounter(descriptor: descriptor(name), labels: labels).increment(by: Int64(amount))
    }

    private func time(_ name: String, _ labels: [(String, String)], _ duration: Duration) {
        registry.makeDurationHistogram(descriptor: descriptor(name), labels: labels, buckets: buckets).record(duration)
    }

    private func gauge(_ name: String, _ labels: [(String, String)], _ value: Int) {
        registry.makeGauge(descriptor: descriptor(name), labels: labels).set(to: Double(value))
    }

    /// One batch of a version: events in, and what became of them (``OutcomeTally``); failed
    /// events are labelled with their kind's name, limit hits with the limit (`time`, `memory`).
    func batch(transformation: String, version: String, inputs: Int, result: BatchResult, duration: Duration) {
        let labels = [("transformation", transformation), ("version", version)]
        let outcomes = OutcomeTally(result, events: inputs)
        count("sluice_events_in_total", labels, by: outcomes.events)
        count("sluice_events_out_total", labels, by: outcomes.outputs)
        count("sluice_events_dropped_total", labels, by: outcomes.dropped)
        for (kind, number) in outcomes.failureCounts {
            count("sluice_events_failed_total", labels + [("kind", kind.name)], by: number)
        }
        count("sluice_limit_hits_total", labels + [("limit", "time")], by: outcomes.count(of: .timeLimit))
        count("sluice_limit_hits_total", labels + [("limit", "memory")], by: outcomes.count(of: .memoryLimit))
        time("sluice_batch_duration_seconds", labels, duration)
        let (seconds, attoseconds) = duration.components
        traffic.record(transformation: transformation, events: outcomes.events, errors: outcomes.failed, limitHits: outcomes.limitHits,
                       measured: result.eventNanoseconds, batchNanoseconds: UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds) / 1_000_000_000))
    }

    /// What rudder-transformer labels its user-transform series with, from a group's first
    /// event's metadata.
    public struct RudderLabels: Sendable, Hashable {
        public var workspaceId = ""
        public var transformationId = ""
        public var sourceType = ""
        public var destinationType = ""
        public init(workspaceId: String = "", transformationId: String = "", sourceType: String = "", destinationType: String = "") {
            self.workspaceId = workspaceId
            self.transformationId = transformationId
            self.sourceType = sourceType
            self.destinationType = destinationType
        }
    }

    /// At most this many distinct label sets from requests; later ones are counted as `other`
    /// (the values come from clients, which must not be able to mint series without end).
    static let maximumRudderLabelSets = 1000
    private let rudderLabelSets = RudderLabelSets()

    /// The batch again under rudder-transformer's names (prefix `transformer_`) and labels, for
    /// the dashboards a RudderStack operator already has (docs/http.md lists the mapping).
    func rudderBatch(_ given: RudderLabels, inputs: Int, result: BatchResult, duration: Duration) {
        let labels = rudderLabelSets.admit(given, limit: Self.maximumRudderLabelSets)
        let outcomes = OutcomeTally(result, events: inputs)
        let outputs = outcomes.outputs, errors = outcomes.failed
        count("transformer_user_transform_requests", [])
        count("transformer_user_transform_input_events", [("workspaceId", labels.workspaceId)], by: inputs)
        count("transformer_user_transform_output_events", [("workspaceId", labels.workspaceId)], by: outputs)
        rudderErrors(labels, status: 400, events: errors)
        time("transformer_user_transform_function_latency", [
            ("identifier", "v1"), ("errored", errors > 0 ? "true" : "false"), ("sourceType", labels.sourceType),
            ("destinationType", labels.destinationType), ("transformationId", labels.transformationId), ("workspaceId", labels.workspaceId),
        ], duration)
    }

    /// Events of a group that never ran, under rudder-transformer's error series.
    func rudderUnresolved(_ given: RudderLabels, status: Int, events: Int) {
        let labels = rudderLabelSets.admit(given, limit: Self.maximumRudderLabelSets)
        count("transformer_user_transform_requests", [])
        count("transformer_user_transform_input_events", [("workspaceId", labels.workspaceId)], by: events)
        rudderErrors(labels, status: status, events: events)
    }

    private func rudderErrors(_ labels: RudderLabels, status: Int, events: Int) {
        count("transformer_user_transform_errors", [
            ("workspaceId", labels.workspaceId), ("transformationId", labels.transformationId), ("status", String(status)),
            ("sourceType", labels.sourceType), ("destinationType", labels.destinationType),
        ], by: events)
    }

    /// Events whose group never ran, by the failure's kind and the item status it got: an
    /// unknown version or a missing VersionID (`not_found`), a version that does not compile
    /// (`compile`), a code-source outage (`unavailable`), a lost worker (`worker_lost`), a refused
    /// batch (`refused`). No version label: ids come from requests.
    func unresolved(kind: FailureKind, status: Int, events: Int) {
        count("sluice_unresolved_events_total", [("kind", kind.name), ("status", String(status))], by: events)
    }

    public func compiled(transformation: String, version: String, duration: Duration, failed: Bool) {
        let labels = [("transformation", transformation), ("version", version)]
        time("sluice_compile_duration_seconds", labels, duration)
        if failed { count("sluice_compile_failures_total", labels) }
    }

    /// A worker process `started`, `failed_to_start`, was `lost` or `recycled`; start-up time too.
    func workerEvent(_ event: String, startDuration: Duration? = nil) {
        count("sluice_worker_events_total", [("event", event)])
        if let startDuration { time("sluice_worker_start_seconds", [], startDuration) }
    }

    /// An event whose call forced its worker process to be ended (or killed it twice): it got its
    /// terminal failure and the rest of its batch ran on (`sluice_poison_events_total`).
    func poisonEvent(version: String) {
        count("sluice_poison_events_total", [("version", version)])
    }

    /// A version's circuit breaker changed state (`degraded`, `disabled`, `probing`, `healthy`).
    func breakerTransition(to state: String) {
        count("sluice_breaker_transitions_total", [("to", state)])
    }

    /// One fetch by user code: `ok`, `refused`, `timeout`, `too_large`, `network`, `unavailable`.
    func fetch(outcome: String, duration: Duration) {
        count("sluice_fetch_total", [("outcome", outcome)])
        time("sluice_fetch_duration_seconds", [("outcome", outcome)], duration)
        // rudder-transformer's name (for fetch and fetchV2 alike: the service sees one request).
        time("transformer_fetch_call_duration", [("isSuccess", outcome == "ok" ? "true" : "false")], duration)
    }

    /// One `geolocation(ip)` lookup: `ok`, `status` (not 200), `timeout`, `network`, `refused`,
    /// `unavailable` (no geolocation URL configured), `too_large`.
    func geolocation(outcome: String, duration: Duration) {
        count("sluice_geolocation_total", [("outcome", outcome)])
        time("sluice_geolocation_duration_seconds", [("outcome", outcome)], duration)
        time("transformer_geo_call_duration", [("isSuccess", outcome == "ok" ? "true" : "false")], duration)
    }

    /// What a worker process's compiled-code cache did for one batch (the same series as in process).
    func workerCompile(transformation: String, version: String, report: CompileReport) {
        if let hit = report.cacheHit { cacheLookup(hit: hit) }
        if let nanoseconds = report.compileNanoseconds {
            compiled(transformation: transformation, version: version, duration: .nanoseconds(nanoseconds), failed: report.compileFailed)
        }
        cacheEvictions(report.evictions)
    }

    public func cacheLookup(hit: Bool) {
        count("sluice_compiled_cache_lookups_total", [("result", hit ? "hit" : "miss")])
    }

    public func cacheEvictions(_ number: Int) {
        count("sluice_compiled_cache_evictions_total", [], by: number)
    }

    /// One source's answer to a version lookup (the resolver's observer); the config backend's
    /// are counted by outcome.
    func versionLookup(from source: any VersionSource, _ lookup: VersionLookup) {
        guard source is ConfigBackend else { return }
        let outcome = switch lookup {
        case .found: "ok"
        case .notFound: "not_found"
        case .unavailable: "unavailable"
        case .invalid: "invalid"
        }
        count("sluice_config_backend_lookups_total", [("outcome", outcome)])
    }

    /// A request refused by the memory fence.
    public func fenced(endpoint: String) {
        count("sluice_memory_fenced_requests_total", [("endpoint", endpoint)])
    }

    public func request(endpoint: String, status: Int, duration: Duration) {
        count("sluice_http_requests_total", [("endpoint", endpoint), ("status", String(status))])
        time("sluice_http_request_duration_seconds", [("endpoint", endpoint)], duration)
    }

    /// HTTP connections open now (admitted under the cap).
    func openConnections(_ count: Int) {
        gauge("sluice_http_connections_open", [], count)
    }

    /// A connection turned away past the connection cap.
    func connectionRejected() {
        count("sluice_http_connections_rejected_total", [])
    }

    /// A connection closed by a timeout: `header`, `body` or `idle`.
    func connectionTimedOut(_ timeout: String) {
        count("sluice_http_connection_timeouts_total", [("timeout", timeout)])
    }

    public func reload(updated: Int) {
        count("sluice_registry_reloads_total", [])
        count("sluice_registry_versions_created_total", [], by: updated)
    }

    /// A changed folder transformation that does not compile or load (its last good version stays live).
    func reloadFailure(transformation: String) {
        count("sluice_reload_failures_total", [("transformation", transformation)])
    }

    /// Folder transformations whose files do not compile or load now.
    func reloadErrors(_ number: Int) {
        gauge("sluice_reload_errors", [], number)
    }

    /// Whether the API store's changes are pushed (1) or polled (0).
    func storeState(listening: Bool) {
        gauge("sluice_store_listening", [], listening ? 1 : 0)
    }

    /// A live-version change heard from the store.
    func storeNotification(kind: String) {
        count("sluice_store_notifications_total", [("kind", kind)])
    }

    /// Live-version changes found by reading the store's live set.
    func storePolledChanges(_ number: Int) {
        count("sluice_store_polled_changes_total", [], by: number)
    }

    /// One streamed run by name under `/v1` (its batches count as the version's events too).
    func v1Run(transformation: String) {
        count("sluice_v1_runs_total", [("transformation", transformation)])
    }

    /// Events of one share of a group split by a rollout: `role` is `live` or `candidate`.
    func rolloutEvents(transformation: String, version: String, role: String, events: Int) {
        count("sluice_rollout_events_total", [("transformation", transformation), ("version", version), ("role", role)], by: events)
    }

    /// A candidate rolled back because it failed more than the live version.
    func rolloutRollback(transformation: String) {
        count("sluice_rollout_rollbacks_total", [("transformation", transformation)])
    }

    /// A rollout change this replica made (and won, when replicas raced).
    func rolloutChange(transformation: String, action: String) {
        count("sluice_rollout_changes_total", [("transformation", transformation), ("action", action)])
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}

/// The rudder label sets seen so far, up to a limit (see ``ServiceMetrics/maximumRudderLabelSets``).
final class RudderLabelSets: @unchecked Sendable {
    // @unchecked: `seen` is guarded by `lock`.
    private let lock = NSLock()
    private var seen: Set<ServiceMetrics.RudderLabels> = []

    func admit(_ labels: ServiceMetrics.RudderLabels, limit: Int) -> ServiceMetrics.RudderLabels {
        lock.lock()
        defer { lock.unlock() }
        if seen.contains(labels) { return labels }
        guard seen.count < limit else {
            return ServiceMetrics.RudderLabels(workspaceId: "other", transformationId: "other", sourceType: "other", destinationType: "other")
        }
        seen.insert(labels)
        return labels
    }
}
