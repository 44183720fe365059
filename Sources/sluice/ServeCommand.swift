import ArgumentParser
import Foundation
import SluiceCore
import SluiceRuntime
import SluiceSandbox
import SluiceServer
import SluiceStudio
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the hosted transformations over HTTP (rudder-transformer compatible).",
        discussion: """
        Routes: POST /customTransform, /transformation/test, /transformationLibrary/test, /extractLibs, the native /v1 API, GET /metrics (what rudder-server calls; VersionID is a version's content id, sv…, or a transformation's name for its live version), GET /health. Every setting can also come from the environment (SLUICE_HOST, SLUICE_PORT, SLUICE_TRANSFORMATIONS, SLUICE_LIBRARIES, SLUICE_TIME_LIMIT_MS, SLUICE_MEMORY_LIMIT_MB, SLUICE_MAX_BODY_BYTES, SLUICE_HEADER_TIMEOUT_MS, SLUICE_BODY_TIMEOUT_MS, SLUICE_IDLE_TIMEOUT_MS, SLUICE_MAX_CONNECTIONS, SLUICE_SHUTDOWN_GRACE_MS, SLUICE_BREAKER (on/off), SLUICE_BREAKER_WINDOW_MS, SLUICE_BREAKER_WORKER_ENDINGS, SLUICE_BREAKER_LIMIT_SHARE, SLUICE_BREAKER_MINIMUM_EVENTS, SLUICE_BREAKER_DISABLED_MS, SLUICE_WORKERS, SLUICE_ISOLATION, SLUICE_WORKER_RECYCLE_MB, SLUICE_WORKER_LANGUAGES (comma-separated), SLUICE_RELOAD_INTERVAL_MS, SLUICE_STORE, SLUICE_MEMORY_FENCE (on/off), SLUICE_MEMORY_FENCE_MB, SLUICE_MEMORY_FENCE_PERCENT, SLUICE_LOG_FORMAT, SLUICE_LOG_LEVEL, CONFIG_BACKEND_URL, SLUICE_CONFIG_BACKEND_TIMEOUT_MS, GEOLOCATION_URL, GEOLOCATION_TIMEOUT_IN_MS, MEMORY_FENCING_ENABLED and MEMORY_FENCING_THRESHOLD_PERCENT (rudder-transformer's names), SLUICE_RECORD, SLUICE_RECORD_SAMPLE, SLUICE_RECORD_REDACT (comma-separated), SLUICE_RECORD_MAX_FILE_MB, SLUICE_FETCH_ALLOW and SLUICE_FETCH_DENY (comma-separated CIDRs), SLUICE_FETCH_TIMEOUT_MS, SLUICE_FETCH_MAX_RESPONSE_BYTES, SLUICE_FETCH_MAX_CALLS, SLUICE_STUDIO); a flag wins over the environment. Slow clients: a request head must arrive within --header-timeout-ms (default 10000) and its body within --body-timeout-ms (default 60000), else 408 and the connection is closed; a kept-alive connection is closed after --idle-timeout-ms (default 75000) without a request; past --max-connections (default 4096, or fewer when the open-file limit, raised to its hard limit at start, is lower) a new connection gets 503 and is closed. SIGTERM or SIGINT stops it gracefully: requests in flight finish, for at most --shutdown-grace-ms (default 25000); then the worker processes are stopped and what is still running is answered as retryable (809). No worker process outlives the server. See docs/http.md.
        """
    )

    @Option(help: "Address to listen on (default 0.0.0.0).")
    var host: String?
    @Option(help: "Port (default 9090, as rudder-transformer; 0 picks a free one).")
    var port: Int?
    @Option(help: "The transformations folder (default ./transformations).")
    var transformations: String?
    @Option(help: "The libraries folder (default ./libraries).")
    var libraries: String?
    @Option(name: .customLong("time-limit-ms"), help: "Time limit per call in milliseconds (default 4000; a manifest's own limits win).")
    var timeLimit: Int?
    @Option(name: .customLong("memory-limit-mb"), help: "Memory limit per call in megabytes (default 128; a manifest's own limits win).")
    var memoryLimit: Int?
    @Option(name: .customLong("max-body-bytes"), help: "Largest request body; larger ones get 413 (default 104857600).")
    var maximumBodyBytes: Int?
    @Option(name: .customLong("header-timeout-ms"), help: "Time to send a request head, from the connection's opening or a later request's first byte; past it 408 and the connection is closed (default 10000).")
    var headerTimeout: Int?
    @Option(name: .customLong("body-timeout-ms"), help: "Time to send a request's whole body, from the end of its head; past it 408 and the connection is closed (default 60000).")
    var bodyTimeout: Int?
    @Option(name: .customLong("idle-timeout-ms"), help: "Time a kept-alive connection may wait for its next request before it is closed (default 75000).")
    var idleTimeout: Int?
    @Option(name: .customLong("max-connections"), help: "Open connections at most; past it a new connection gets 503 and is closed (default 4096, or fewer when the open-file limit is lower).")
    var maximumConnections: Int?
    @Option(help: "on (default) or off: the circuit breaker that disables, for a while, a version whose events keep ending worker processes or hitting limits.")
    var breaker: String?
    @Option(name: .customLong("breaker-window-ms"), help: "How far back the breaker counts faults (default 60000).")
    var breakerWindow: Int?
    @Option(name: .customLong("breaker-worker-endings"), help: "Events that ended a worker process within the window before a version is disabled (default 5; degraded at half).")
    var breakerWorkerEndings: Int?
    @Option(name: .customLong("breaker-limit-share"), help: "Share of a version's events hitting a limit within the window before it is disabled (default 0.9; degraded at half).")
    var breakerLimitShare: Double?
    @Option(name: .customLong("breaker-minimum-events"), help: "Events a version must have run within the window before its limit share counts (default 50).")
    var breakerMinimumEvents: Int?
    @Option(name: .customLong("breaker-disabled-ms"), help: "How long a version stays disabled before a probe batch (default 30000; doubled after each failed probe, up to 15 minutes).")
    var breakerDisabled: Int?
    @Option(name: .customLong("memory-fence"), help: "on (default) or off: while the service's resident memory (server and workers) is above --memory-fence-percent of its budget, requests that run user code get 503 with X-Rudder-Should-Retry: true (rudder-server retries them).")
    var memoryFence: String?
    @Option(name: .customLong("memory-fence-mb"), help: "The memory budget the fence measures against (default: the cgroup's memory.max, else physical memory).")
    var memoryFenceMegabytes: Int?
    @Option(name: .customLong("memory-fence-percent"), help: "The share of the budget above which the fence refuses requests, 1-99 (default 80).")
    var memoryFencePercent: Int?
    @Option(name: .customLong("shutdown-grace-ms"), help: "After SIGTERM or SIGINT, how long requests in flight may finish before the worker processes are stopped and what is still running is answered as retryable (default 25000).")
    var shutdownGrace: Int?
    @Option(help: "Worker processes user code runs in (default: one per core); with --isolation in-process, threads.")
    var workers: Int?
    @Option(help: "processes (default: user code runs in confined `sluice worker` processes) or in-process (on the server's threads: no crash containment, for debugging).")
    var isolation: String?
    @Option(name: .customLong("worker-recycle-mb"), help: "Replace a worker process whose resident memory is past this after a batch (default 1024).")
    var workerRecycleMegabytes: Int?
    @Option(name: .customLong("worker-languages"), help: "The languages whose engines every worker process starts, comma-separated (default javascript), besides those of the folder's transformations. A program in another language makes the pool replace idle workers with ones that start it too; its first batch waits for the first (~0.3 s). Python costs each worker ~21 MB and ~0.25 s of start-up.")
    var workerLanguages: String?
    @Option(help: "Where API-published transformations and libraries are kept: a SQLite file (default .sluice/registry.sqlite) or a postgres:// URL shared by replicas.")
    var store: String?
    @Option(name: .customLong("config-backend-url"), help: "A rudder config backend for version ids not in the registry (env CONFIG_BACKEND_URL).")
    var configBackendURL: String?
    @Option(name: .customLong("geolocation-url"), help: "The geolocation service geolocation(ip) asks, GET <URL>/geoip/<ip> (env GEOLOCATION_URL; unset: geolocation is not available).")
    var geolocationURL: String?
    @Option(name: .customLong("geolocation-timeout-ms"), help: "Time limit of each geolocation lookup (env GEOLOCATION_TIMEOUT_IN_MS; default 1000).")
    var geolocationTimeout: Int?
    @Option(name: .customLong("config-backend-timeout-ms"), help: "Time limit of each config backend request (default 5000).")
    var configBackendTimeout: Int?
    @Option(name: .customLong("reload-interval-ms"), help: "How often to check the folders for changed files, which become new versions (default 1000; 0 turns it off).")
    var reloadInterval: Int?
    @Option(name: .customLong("log-format"), help: "text (default) or json: one JSON object per line on standard error.")
    var logFormat: String?
    @Option(name: .customLong("log-level"), help: "trace, debug, info (default), notice, warning, error or critical.")
    var logLevel: String?
    @Option(help: "Record a sample of /customTransform traffic here, per version, for sluice replay.")
    var record: String?
    @Option(name: .customLong("record-sample"), help: "Fraction of events recorded, 0…1 (default 1; chosen by a hash of each event).")
    var recordSample: Double?
    @Option(name: .customLong("record-redact"), parsing: .singleValue, help: "A path redacted in recorded events and in shadow runs' example diffs, e.g. $.message.context.traits.email (repeatable; * and [*] allowed).")
    var recordRedact: [String] = []
    @Option(name: .customLong("record-max-file-mb"), help: "Start a new recording file past this size (default 64).")
    var recordMaxFileMegabytes: Int?
    @Flag(inversion: .prefixedNo, help: "Serve Studio, the browser playground, at / (env SLUICE_STUDIO=1/0; default: on only when --host is a loopback address — Studio edits and runs code).")
    var studio: Bool?
    @Option(name: .customLong("studio-recordings"), parsing: .singleValue, help: "A folder of recordings (sluice record / serve --record files) Studio may run slices of, besides the --record folder (repeatable; env SLUICE_STUDIO_RECORDINGS, comma-separated).")
    var studioRecordings: [String] = []

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        func integer(_ flag: Int?, _ key: String, _ name: String) throws -> Int? {
            if let flag { return flag }
            guard let text = environment[key] else { return nil }
            guard let value = Int(text) else { throw ValidationError("\(key)=\(text): \(name) must be a whole number") }
            return value
        }
        var configuration = ServerConfiguration()
        configuration.host = host ?? environment["SLUICE_HOST"] ?? configuration.host
        configuration.port = try integer(port, "SLUICE_PORT", "the port") ?? configuration.port
        configuration.transformationsRoot = transformations ?? environment["SLUICE_TRANSFORMATIONS"] ?? configuration.transformationsRoot
        configuration.librariesRoot = libraries ?? environment["SLUICE_LIBRARIES"] ?? configuration.librariesRoot
        configuration.limits.timeMilliseconds = try integer(timeLimit, "SLUICE_TIME_LIMIT_MS", "the time limit") ?? configuration.limits.timeMilliseconds
        configuration.limits.memoryMegabytes = try integer(memoryLimit, "SLUICE_MEMORY_LIMIT_MB", "the memory limit") ?? configuration.limits.memoryMegabytes
        configuration.maximumBodyBytes = try integer(maximumBodyBytes, "SLUICE_MAX_BODY_BYTES", "the body limit") ?? configuration.maximumBodyBytes
        configuration.workers = try integer(workers, "SLUICE_WORKERS", "the worker count") ?? configuration.workers
        func timeout(_ flag: Int?, _ key: String, _ name: String, _ current: Duration) throws -> Duration {
            guard let milliseconds = try integer(flag, key, name) else { return current }
            guard milliseconds >= 1 else { throw ValidationError("\(name) must be at least 1 ms") }
            return .milliseconds(milliseconds)
        }
        configuration.headerTimeout = try timeout(headerTimeout, "SLUICE_HEADER_TIMEOUT_MS", "the header timeout", configuration.headerTimeout)
        configuration.bodyTimeout = try timeout(bodyTimeout, "SLUICE_BODY_TIMEOUT_MS", "the body timeout", configuration.bodyTimeout)
        configuration.idleTimeout = try timeout(idleTimeout, "SLUICE_IDLE_TIMEOUT_MS", "the idle timeout", configuration.idleTimeout)
        let drain = try timeout(shutdownGrace, "SLUICE_SHUTDOWN_GRACE_MS", "the shutdown grace", .seconds(25))
        switch breaker ?? environment["SLUICE_BREAKER"] ?? "on" {
        case "on": configuration.breaker.enabled = true
        case "off": configuration.breaker.enabled = false
        case let other: throw ValidationError("the breaker must be on or off (got \(other))")
        }
        configuration.breaker.window = try timeout(breakerWindow, "SLUICE_BREAKER_WINDOW_MS", "the breaker window", configuration.breaker.window)
        configuration.breaker.disabledFor = try timeout(breakerDisabled, "SLUICE_BREAKER_DISABLED_MS", "the breaker's disabled time", configuration.breaker.disabledFor)
        if let endings = try integer(breakerWorkerEndings, "SLUICE_BREAKER_WORKER_ENDINGS", "the breaker's worker endings") {
            guard endings >= 1 else { throw ValidationError("the breaker's worker endings must be at least 1") }
            configuration.breaker.disableAfterWorkerEndings = endings
            configuration.breaker.degradeAfterWorkerEndings = (endings + 1) / 2
        }
        if let share = try breakerLimitShare ?? environment["SLUICE_BREAKER_LIMIT_SHARE"].map({ text -> Double in
            guard let value = Double(text) else { throw ValidationError("SLUICE_BREAKER_LIMIT_SHARE=\(text): the breaker's limit share must be a number") }
            return value
        }) {
            guard share > 0, share <= 1 else { throw ValidationError("the breaker's limit share must be above 0 and at most 1") }
            configuration.breaker.disableLimitShare = share
            configuration.breaker.degradeLimitShare = share / 2
        }
        if let minimum = try integer(breakerMinimumEvents, "SLUICE_BREAKER_MINIMUM_EVENTS", "the breaker's minimum events") {
            guard minimum >= 1 else { throw ValidationError("the breaker's minimum events must be at least 1") }
            configuration.breaker.minimumEvents = minimum
        }
        // rudder-transformer's own variable names are honoured too (MEMORY_FENCING_ENABLED, …).
        let fenceSwitch = memoryFence ?? environment["SLUICE_MEMORY_FENCE"]
            ?? environment["MEMORY_FENCING_ENABLED"].map { $0 == "true" ? "on" : "off" } ?? "on"
        switch fenceSwitch {
        case "on":
            var fence = MemoryFence.Configuration()
            if let megabytes = try integer(memoryFenceMegabytes, "SLUICE_MEMORY_FENCE_MB", "the memory fence budget") {
                guard megabytes >= 1 else { throw ValidationError("the memory fence budget must be at least 1 MB") }
                fence.budgetBytes = megabytes << 20
            }
            let percentKey = environment["SLUICE_MEMORY_FENCE_PERCENT"] != nil ? "SLUICE_MEMORY_FENCE_PERCENT" : "MEMORY_FENCING_THRESHOLD_PERCENT"
            if let percent = try integer(memoryFencePercent, percentKey, "the memory fence percent") {
                guard (1...99).contains(percent) else { throw ValidationError("the memory fence percent must be between 1 and 99") }
                fence.thresholdPercent = percent
            }
            configuration.memoryFence = fence
        case "off":
            configuration.memoryFence = nil
        case let other:
            throw ValidationError("the memory fence must be on or off (got \(other))")
        }
        // Every connection holds a descriptor: take the whole hard limit, and keep the cap within it.
        let descriptorLimit = OpenFileLimit.raiseToHardLimit()
        let connectionCap = descriptorLimit.map { OpenFileLimit.connectionCap(descriptorLimit: $0) } ?? configuration.maximumConnections
        configuration.maximumConnections = try integer(maximumConnections, "SLUICE_MAX_CONNECTIONS", "the connection limit") ?? connectionCap
        guard configuration.maximumConnections >= 1 else { throw ValidationError("the connection limit must be at least 1") }
        if let descriptorLimit, configuration.maximumConnections > descriptorLimit - OpenFileLimit.reservedDescriptors {
            throw ValidationError("\(configuration.maximumConnections) connections need more descriptors than the open-file limit leaves room for (\(descriptorLimit), raised to its hard limit: at most \(OpenFileLimit.connectionCap(descriptorLimit: descriptorLimit)) connections); raise the hard limit (ulimit -Hn) or lower the connection limit")
        }
        configuration.storePath = store ?? environment["SLUICE_STORE"] ?? configuration.storePath
        configuration.configBackendURL = configBackendURL ?? environment["CONFIG_BACKEND_URL"].flatMap { $0.isEmpty ? nil : $0 }
        let backendTimeout = try integer(configBackendTimeout, "SLUICE_CONFIG_BACKEND_TIMEOUT_MS", "the config backend timeout") ?? 5000
        guard backendTimeout >= 1 else { throw ValidationError("the config backend timeout must be at least 1 ms") }
        configuration.configBackendTimeout = .milliseconds(backendTimeout)
        configuration.geolocationURL = geolocationURL ?? environment["GEOLOCATION_URL"].flatMap { $0.isEmpty ? nil : $0 }
        if let url = configuration.geolocationURL, EgressPolicy.Origin(url: url) == nil {
            throw ValidationError("the geolocation URL must be an absolute http(s) URL, not \(url)")
        }
        configuration.geolocationTimeout = try timeout(geolocationTimeout, "GEOLOCATION_TIMEOUT_IN_MS", "the geolocation timeout",
                                                       configuration.geolocationTimeout)
        let format = logFormat ?? environment["SLUICE_LOG_FORMAT"] ?? "text"
        guard ["text", "json"].contains(format) else { throw ValidationError("the log format must be text or json, not \(format)") }
        let levelName = logLevel ?? environment["SLUICE_LOG_LEVEL"] ?? "info"
        guard let level = Logger.Level(rawValue: levelName) else {
            throw ValidationError("the log level must be one of trace, debug, info, notice, warning, error, critical — not \(levelName)")
        }
        var logger = format == "json" ? Logger(label: "sluice", factory: { JSONLogHandler(label: $0) }) : Logger(label: "sluice")
        logger.logLevel = level
        configuration.logger = logger
        let reloadMilliseconds = try integer(reloadInterval, "SLUICE_RELOAD_INTERVAL_MS", "the reload interval") ?? 1000
        guard reloadMilliseconds >= 0 else { throw ValidationError("the reload interval must be 0 (off) or more milliseconds") }
        configuration.reloadInterval = reloadMilliseconds == 0 ? nil : .milliseconds(reloadMilliseconds)
        let redact = recordRedact.isEmpty
            ? (environment["SLUICE_RECORD_REDACT"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : recordRedact
        for path in redact where !path.hasPrefix("$") {
            throw ValidationError("record redaction paths start with $ (e.g. $.message.context.traits.email), not \(path)")
        }
        configuration.redact = redact  // shadow runs' examples, with or without --record
        if let directory = record ?? environment["SLUICE_RECORD"] {
            var recording = TrafficRecorder.Options(directory: directory)
            if let text = recordSample.map({ String($0) }) ?? environment["SLUICE_RECORD_SAMPLE"] {
                guard let rate = Double(text), (0...1).contains(rate) else { throw ValidationError("the record sample must be between 0 and 1, not \(text)") }
                recording.sampleRate = rate
            }
            recording.redact = redact
            let megabytes = try integer(recordMaxFileMegabytes, "SLUICE_RECORD_MAX_FILE_MB", "the recording file size") ?? 64
            guard megabytes >= 1 else { throw ValidationError("the recording file size must be at least 1 MB") }
            recording.maximumFileBytes = megabytes << 20
            configuration.recording = recording
        } else if recordSample != nil || recordMaxFileMegabytes != nil {
            throw ValidationError("--record-sample and --record-max-file-mb need --record DIR")
        }
        configuration.studioRecordings = !studioRecordings.isEmpty ? studioRecordings
            : (environment["SLUICE_STUDIO_RECORDINGS"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        switch StudioGuard.enabled(explicit: studio, environment: environment["SLUICE_STUDIO"], host: configuration.host) {
        case .success(let enabled): configuration.studio = enabled
        case .failure(let problem): throw ValidationError(problem.message)
        }
        guard (0...65535).contains(configuration.port) else { throw ValidationError("the port must be 0–65535, not \(configuration.port)") }
        guard configuration.limits.timeMilliseconds >= 1, configuration.limits.memoryMegabytes >= 1 else {
            throw ValidationError("limits must be at least 1 ms and 1 MB")
        }
        guard configuration.workers >= 1, configuration.maximumBodyBytes >= 1 else { throw ValidationError("workers and the body limit must be at least 1") }
        do {
            configuration.fetchPolicy = try EgressPolicy.fromEnvironment(environment)
        } catch {
            throw ValidationError("\(error)")
        }
        if let milliseconds = try integer(nil, "SLUICE_FETCH_TIMEOUT_MS", "the fetch timeout") {
            guard milliseconds >= 1 else { throw ValidationError("SLUICE_FETCH_TIMEOUT_MS must be at least 1") }
            configuration.fetchLimits.timeout = .milliseconds(milliseconds)
        }
        if let bytes = try integer(nil, "SLUICE_FETCH_MAX_RESPONSE_BYTES", "the fetch response cap") {
            guard bytes >= 1 else { throw ValidationError("SLUICE_FETCH_MAX_RESPONSE_BYTES must be at least 1") }
            configuration.fetchLimits.maximumResponseBytes = bytes
        }
        if let calls = try integer(nil, "SLUICE_FETCH_MAX_CALLS", "the fetch calls per invocation") {
            guard calls >= 0 else { throw ValidationError("SLUICE_FETCH_MAX_CALLS must be 0 or more") }
            configuration.fetchLimits.callsPerInvocation = calls
        }
        let isolationName = isolation ?? environment["SLUICE_ISOLATION"] ?? "processes"
        switch isolationName {
        case "processes":
            var pool = WorkerPool.Configuration()
            pool.count = configuration.workers
            let recycle = try integer(workerRecycleMegabytes, "SLUICE_WORKER_RECYCLE_MB", "the worker recycle threshold") ?? 1024
            guard recycle >= 1 else { throw ValidationError("the worker recycle threshold must be at least 1 MB") }
            pool.recycleResidentBytes = recycle << 20
            if format == "json" { pool.arguments += ["--log-format", "json"] }
            if let list = workerLanguages ?? environment["SLUICE_WORKER_LANGUAGES"] {
                guard let languages = WorkerCommand.parse(list) else { throw ValidationError("--worker-languages must name javascript and/or python (got \(list))") }
                pool.languages = languages
            }
            configuration.isolation = .processes(pool)
        case "in-process":
            configuration.isolation = .inProcess
        default:
            throw ValidationError("--isolation must be processes or in-process, not \(isolationName)")
        }

        // Start-up lines: plain text, or with --log-format json log lines like every other.
        let json = format == "json"
        let startup = logger
        @Sendable func announce(_ text: String, _ message: Logger.Message, _ metadata: Logger.Metadata = [:], level: Logger.Level = .info) {
            if json { startup.log(level: level, message, metadata: metadata) } else { FileHandle.standardError.write(Data("sluice serve: \(text)\n".utf8)) }
        }
        func fail(_ message: String) -> any Error {
            guard json else { return CLIError(message) }
            startup.critical("\(message)")
            return ExitCode(1)
        }
        // A port in use is reported before any worker process starts.
        if let problem = await ListenCheck.problem(host: configuration.host, port: configuration.port) { throw fail(problem) }
        let service: SluiceService
        do {
            service = try await SluiceService(configuration: configuration)
        } catch {
            throw fail("cannot start: \(error)")
        }
        for problem in service.registry.problems { announce("skipped \(problem)", "skipped", ["error": "\(problem)"], level: .warning) }
        let live = service.registry.live
        let workerKind = isolationName == "processes" ? "worker processes" : "in-process workers"
        announce("\(Wording.counted(live.count, "transformation")) from \(configuration.transformationsRoot), \(configuration.workers) \(workerKind), limits \(configuration.limits.timeMilliseconds) ms / \(configuration.limits.memoryMegabytes) MB, at most \(configuration.maximumConnections) connections",
                 "serving", ["transformations": .stringConvertible(live.count), "transformations.folder": "\(configuration.transformationsRoot)",
                             "workers": .stringConvertible(configuration.workers), "isolation": "\(isolationName)",
                             "limits.time_ms": .stringConvertible(configuration.limits.timeMilliseconds),
                             "limits.memory_mb": .stringConvertible(configuration.limits.memoryMegabytes),
                             "connections.limit": .stringConvertible(configuration.maximumConnections)])
        if let url = configuration.configBackendURL {
            announce("unknown version ids are fetched from the config backend \(url)", "config backend", ["config_backend.url": "\(url)"])
        }
        for version in live {
            announce("  \(version.name) \(version.id)", "transformation", ["transformation.name": "\(version.name)", "transformation.version": "\(version.id)"])
        }
        let host = configuration.host
        let studioURL = configuration.studioEnabled
        let app = service.application { port in
            announce("listening on \(host):\(port)", "listening", ["address": "\(host)", "port": .stringConvertible(port)])
            if studioURL { StudioCommand.announce(host: host, port: port) }
        }
        if let recording = configuration.recording {
            announce("recording \(Int(recording.sampleRate * 100))% of /customTransform events to \(recording.directory)", "recording",
                     ["record.directory": "\(recording.directory)", "record.sample": .stringConvertible(recording.sampleRate)])
        }
        defer {
            if let recorder = service.recorder {
                recorder.close()
                for problem in recorder.errors { announce(problem, "recording problem", ["error": "\(problem)"], level: .error) }
            }
        }
        defer { service.processes?.shutdown() }
        defer { service.catalog.stopFollowing() }
        // A graceful stop lets requests in flight finish, but not forever: past the grace the
        // workers are stopped (even one spinning in user code), and their requests end as
        // retryable so the data plane sends them again to another replica.
        let drainTimers = service.processes.map { pool in ShutdownDrain.start(after: drain) { pool.shutdown() } } ?? []
        defer { for timer in drainTimers { timer.cancel() } }
        try await app.runService()
    }
}

/// Runs `action` once, `grace` after the first SIGTERM or SIGINT (the signals Hummingbird's
/// graceful shutdown listens to; dispatch sources for a signal all see it).
enum ShutdownDrain {
    static func start(after grace: Duration, _ action: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        let once = OnceFlag()
        return [SIGTERM, SIGINT].map { number in
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                guard once.claim() else { return }
                DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(Int(grace.millisecondsValue)), execute: action)
            }
            source.resume()
            return source
        }
    }

    private final class OnceFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var claimed = false
        func claim() -> Bool { lock.withLock { defer { claimed = true }; return !claimed } }
    }
}
