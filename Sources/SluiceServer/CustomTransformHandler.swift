import Logging
import SluiceCore
import SluiceRuntime
import SluiceSandbox

/// `POST /customTransform`, rudder-transformer compatible (CONTRACT.md §2.1), independent of the
/// HTTP library: request bytes in, response out. Event bodies stay raw JSON until the engine.
///
/// Where rudder-transformer answers badly, Sluice answers correctly: an empty array gets `[]`
/// (HTTP 200), a missing `metadata` is treated as `{}`, and several source/destination groups
/// in one request each get their own items exactly once.
///
/// Request reading is in `CustomTransformHandler+Request.swift`, the items it answers with in
/// `CustomTransformHandler+Response.swift`, the status of each failure kind in
/// `FailureKind+HTTPStatus.swift`.
public struct CustomTransformHandler: Sendable {
    /// Where user code runs (in this process or in worker processes: the handler does not know).
    public let executor: any BatchExecutor
    public let resolver: any VersionResolver
    public let limits: Limits
    /// When set, a sample of the traffic (inputs with their results) is recorded per version.
    public let recorder: TrafficRecorder?
    public let metrics: ServiceMetrics?
    public let logger: Logger?
    /// Performs user code's fetches when it runs in this process (worker processes use the
    /// pool's); nil: fetch is unavailable.
    public var fetch: FetchHandler?
    /// Fetches one invocation may make.
    public var fetchCallsPerInvocation = FetchLimits().callsPerInvocation
    /// The circuit breaker per version; nil: every batch runs.
    public var breaker: CircuitBreaker?
    /// Canary rollouts: a group whose version has one in progress is split between it and the
    /// candidate (`CustomTransformHandler+Rollout.swift`); nil: no rollouts.
    public var rollouts: RolloutController?
    /// Shadow runs, offered each batch that ran (``ShadowRuns/offer(_:batch:live:executor:)``); nil: none.
    public var shadows: ShadowRuns?

    public init(executor: any BatchExecutor, resolver: any VersionResolver, limits: Limits = .defaults, recorder: TrafficRecorder? = nil,
                metrics: ServiceMetrics? = nil, logger: Logger? = nil) {
        self.executor = executor
        self.resolver = resolver
        self.limits = limits
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
    }

    /// Handles one request body. `filterCode` is true when the request carries
    /// `X-Feature-Filter-Code: ?1` (dropped events then get 298 items).
    public func handle(body: [UInt8], filterCode: Bool) -> WireResponse {
        let inputs: [Input]
        let parseStart = ContinuousClock.now
        do {
            inputs = try Self.parse(body)
        } catch let error as RawJSONError {
            return .error(400, error.description)
        } catch {
            return .error(400, "\(error)")
        }
        let parseTime = ContinuousClock.now - parseStart
        var response = ResponseBuffer(capacity: body.count + body.count / 4 + 64)
        var retryable = false
        var engineTime = Duration.zero
        for group in Self.groups(inputs) {
            retryable = run(group, body: body, filterCode: filterCode, into: &response, engineTime: &engineTime) || retryable
        }
        var wire = WireResponse(status: retryable ? FailureKind.rudderRetryStatus : 200, body: response.finished(), headers: [("apiVersion", "2")])
        wire.engineTime = engineTime
        wire.parseTime = parseTime
        return wire
    }

    /// Runs one source/destination group and appends its items; true when the group failed for a
    /// reason a retry can fix (the response is then 809, so rudder-server retries the request).
    private func run(_ group: [Input], body: [UInt8], filterCode: Bool, into response: inout ResponseBuffer, engineTime: inout Duration) -> Bool {
        guard let versionID = group[0].destination.flatMap({ Self.versionID(body, $0) }), !versionID.isEmpty else {
            // rudder-transformer answers one item for the group, with its first event's metadata.
            response.error(status: 400, "Transformation VersionID not found", metadata: group[0].metadata)
            metrics?.unresolved(kind: .notFound, status: 400, events: group.count)
            return false
        }
        let libraryVersionIDs = group[0].libraries.flatMap { Self.libraryVersionIDs(body, $0) } ?? []
        let program: Program
        let limits: Limits
        switch resolver.resolve(versionID: versionID, libraryVersionIDs: libraryVersionIDs) {
        case .found(let found, let versionLimits):
            program = found
            limits = versionLimits ?? self.limits
        case .failed(let failure):
            fail(group, failure, version: versionID, into: &response)
            return failure.kind.isRetryable
        }
        let name = program.source.name
        if let plan = rollouts?.plan(for: program, serviceLimits: self.limits) {
            return runSplit(group, plan: plan, live: program, liveLimits: limits, versionID: versionID, body: body, filterCode: filterCode,
                            into: &response, engineTime: &engineTime)
        }
        var batch = Self.batch(of: group, body: body)
        batch.fetch = fetch
        batch.fetchCallsPerInvocation = fetchCallsPerInvocation
        let start = ContinuousClock.now
        // Through the circuit breaker: a version whose events keep ending workers or hitting
        // limits is not run, and each event gets the reason at once.
        let (execution, ran, probe) = runShare(program, batch, limits: limits)
        let elapsed = ContinuousClock.now - start
        engineTime += elapsed
        let result: BatchResult
        switch execution {
        case .ran(let ran):
            result = Self.redacting(batch.credentialValues, in: ran)
        case .failed(let failure):
            fail(group, failure, version: program.id, transformation: name, into: &response)
            return failure.kind.isRetryable
        }
        metrics?.batch(transformation: name, version: program.id, inputs: group.count, result: result, duration: elapsed)
        metrics?.rudderBatch(Self.rudderLabels(group), inputs: group.count, result: result, duration: elapsed)
        if let breaker, ran {
            breaker.record(version: program.id, transformation: name, events: group.count, limitHits: OutcomeTally(result, events: 0).limitHits,
                           workerEndings: result.workerEndings, probe: probe)
        }
        if let logger { Self.logLimitHits(result, transformation: name, version: program.id, logger: logger) }
        recorder?.record(versionID: versionID, inputs: batch.items, results: result.results)
        if ran { shadows?.offer(program, batch: batch, live: result, executor: executor) }
        response.items(of: result, group: group, filterCode: filterCode)
        return false
    }

    /// Every event of the group gets an error item for `failure` (with its kind's status),
    /// counted as unresolved and logged with the kind as `call.outcome`.
    func fail(_ group: [Input], _ failure: Failure, version: String, transformation: String? = nil, into response: inout ResponseBuffer) {
        let status = failure.kind.rudderItemStatus
        for input in group { response.error(status: status, failure.message, metadata: input.metadata) }
        metrics?.unresolved(kind: failure.kind, status: status, events: group.count)
        metrics?.rudderUnresolved(Self.rudderLabels(group), status: status, events: group.count)
        guard let logger, failure.kind != .notFound else { return }
        var metadata: Logger.Metadata = ["transformation.version": "\(version)", "call.outcome": "\(failure.kind.name)",
                                         "events": .stringConvertible(group.count), "error": "\(failure.message)"]
        if let transformation { metadata["transformation.name"] = "\(transformation)" }
        if failure.kind.isRetryable {
            logger.error("batch failed", metadata: metadata)
        } else {
            logger.warning("batch failed", metadata: metadata)
        }
    }

    /// One warning per batch that hit a limit, with the count of each kind.
    static func logLimitHits(_ result: BatchResult, transformation: String, version: String, logger: Logger) {
        for (kind, count) in OutcomeTally(result, events: 0).failureCounts where kind.isLimit {
            logger.warning("limit hit", metadata: [
                "transformation.name": "\(transformation)", "transformation.version": "\(version)",
                "call.outcome": "\(kind.name)", "events": .stringConvertible(count),
            ])
        }
    }
}
