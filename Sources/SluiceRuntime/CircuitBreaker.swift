#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// A circuit breaker per transformation version, in the spirit of PostHog's HogWatcher: a
/// version whose events keep ending worker processes or hitting limits is first **degraded** (an
/// early warning: logged, counted, shown in `/health` and `/v1/breakers`; it runs as before), then
/// **disabled**: its events get an immediate per-event ``FailureKind/disabled`` error naming the
/// reason and when it will be tried again, so it stops taking worker capacity from the other
/// tenants. When that time comes one batch runs as a **probe**: a clean batch re-enables the
/// version, a bad one disables it again for twice as long (up to ``Configuration/maximumDisabledFor``).
///
/// Thread-safe; one breaker serves every request thread of the service.
public final class CircuitBreaker: @unchecked Sendable {
    // @unchecked: all state is guarded by `mutex`.

    /// Thresholds, each with its default.
    public struct Configuration: Sendable {
        /// Off: every batch runs (default on).
        public var enabled = true
        /// How far back faults count (default 60 s).
        public var window: Duration = .seconds(60)
        /// Events that ended a worker process (a call past its limit in code the engine cannot
        /// interrupt, or a crash that repeated) within the window: degraded at 2, disabled at 5.
        public var degradeAfterWorkerEndings = 2
        public var disableAfterWorkerEndings = 5
        /// Share of the version's events that hit the time or memory limit within the window,
        /// counted once it has run ``minimumEvents``: degraded at 0.45, disabled at 0.9.
        public var degradeLimitShare = 0.45
        public var disableLimitShare = 0.9
        /// Events a version must have run in the window before its limit share counts (default 50).
        public var minimumEvents = 50
        /// How long a version stays disabled before a probe batch (default 30 s); doubled after
        /// each failed probe, up to ``maximumDisabledFor`` (default 15 minutes).
        public var disabledFor: Duration = .seconds(30)
        public var maximumDisabledFor: Duration = .seconds(900)

        public init() {}
    }

    public enum State: String, Sendable {
        case healthy, degraded, disabled
        /// Disabled, and one batch is running as its probe.
        case probing
    }

    /// A version's breaker, as `/health`, `/v1/breakers` and the logs show it.
    public struct Status: Sendable {
        public var version: String
        public var transformation: String
        public var state: State
        /// Why it is not healthy: the counts that tripped it.
        public var reason: String
        /// When it was disabled, and when it will be tried again (wall clock, seconds since 1970).
        public var disabledAt: Double?
        public var retryAt: Double?
        public var workerEndings: Int
        public var limitHits: Int
        public var events: Int
    }

    /// Whether a batch may run.
    public enum Admission: Sendable {
        /// Run it; `probe` when it is the probe of a disabled version.
        case run(probe: Bool)
        /// Do not run it: every event fails with this message.
        case disabled(String)
    }

    /// A change of a version's state, for logs and metrics.
    public struct Transition: Sendable {
        public var status: Status
        public var from: State
    }

    public let configuration: Configuration
    private let observer: @Sendable (Transition) -> Void
    /// The monotonic clock, in nanoseconds (tests pass their own).
    private let clock: @Sendable () -> UInt64
    private let mutex = ThreadLock()
    private var versions: [String: Tracker] = [:]

    /// Counts of one version in buckets of a tenth of the window.
    private struct Bucket {
        var start: UInt64
        var events = 0
        var limitHits = 0
        var workerEndings = 0
    }

    private struct Tracker {
        var transformation: String
        var state = State.healthy
        var buckets: [Bucket] = []
        var disabledAt: UInt64 = 0
        var retryAt: UInt64 = 0
        var disabledFor: UInt64 = 0
        var reason = ""
    }

    public init(configuration: Configuration = Configuration(), clock: @escaping @Sendable () -> UInt64 = monotonicNanoseconds,
                observer: @escaping @Sendable (Transition) -> Void = { _ in }) {
        self.configuration = configuration
        self.clock = clock
        self.observer = observer
    }

    /// Whether a batch of `version` may run now.
    public func admit(version: String, transformation: String) -> Admission {
        guard configuration.enabled else { return .run(probe: false) }
        mutex.lock()
        defer { mutex.unlock() }
        guard var tracker = versions[version] else { return .run(probe: false) }
        let now = clock()
        switch tracker.state {
        case .healthy, .degraded:
            return .run(probe: false)
        case .disabled where now >= tracker.retryAt:
            tracker.state = .probing
            versions[version] = tracker
            notify(version, tracker, from: .disabled)
            return .run(probe: true)
        case .disabled, .probing:
            return .disabled(disabledMessage(version, tracker, now: now))
        }
    }

    /// Counts a batch of `version` that ran: its events, how many hit a limit and how many ended a
    /// worker process; `probe` as ``admit(version:transformation:)`` said.
    public func record(version: String, transformation: String, events: Int, limitHits: Int, workerEndings: Int, probe: Bool) {
        guard configuration.enabled, events > 0 else { return }
        mutex.lock()
        defer { mutex.unlock() }
        let now = clock()
        // Only versions with faults are followed; once followed, every batch counts.
        guard limitHits > 0 || workerEndings > 0 || versions[version] != nil else { return }
        var tracker = versions[version] ?? Tracker(transformation: transformation)
        let from = tracker.state
        if probe {
            let share = Double(limitHits) / Double(events)
            if workerEndings == 0 && share < configuration.degradeLimitShare {
                versions[version] = nil
                var healed = tracker
                healed.state = .healthy
                healed.reason = "its probe batch ran cleanly (\(events) events)"
                notify(version, healed, from: from)
            } else {
                tracker.buckets = []
                add(&tracker, now: now, events: events, limitHits: limitHits, workerEndings: workerEndings)
                tracker.disabledFor = min(tracker.disabledFor * 2, nanoseconds(configuration.maximumDisabledFor))
                disable(&tracker, now: now, reason: "its probe batch failed again: " + describe(events: events, limitHits: limitHits, workerEndings: workerEndings))
                versions[version] = tracker
                notify(version, tracker, from: from)
            }
            return
        }
        add(&tracker, now: now, events: events, limitHits: limitHits, workerEndings: workerEndings)
        guard tracker.state == .healthy || tracker.state == .degraded else {
            versions[version] = tracker
            return
        }
        let totals = sums(tracker)
        let share = totals.events >= configuration.minimumEvents ? Double(totals.limitHits) / Double(totals.events) : 0
        let counts = describe(events: totals.events, limitHits: totals.limitHits, workerEndings: totals.workerEndings) + " in the last \(Int(configuration.window.secondsValue)) s"
        if totals.workerEndings >= configuration.disableAfterWorkerEndings || share >= configuration.disableLimitShare {
            tracker.disabledFor = nanoseconds(configuration.disabledFor)
            disable(&tracker, now: now, reason: counts)
        } else if totals.workerEndings >= configuration.degradeAfterWorkerEndings || share >= configuration.degradeLimitShare {
            tracker.state = .degraded
            tracker.reason = counts
        } else {
            tracker.state = .healthy
        }
        if tracker.state == .healthy && totals.workerEndings == 0 && totals.limitHits == 0 {
            versions[version] = nil
        } else {
            versions[version] = tracker
        }
        if tracker.state != from { notify(version, tracker, from: from) }
    }

    /// Makes `version` healthy again at once (an operator's decision); false when it was healthy.
    @discardableResult
    public func reset(version: String) -> Bool {
        mutex.lock()
        defer { mutex.unlock() }
        guard var tracker = versions.removeValue(forKey: version) else { return false }
        let from = tracker.state
        tracker.state = .healthy
        tracker.reason = "reset by an operator"
        notify(version, tracker, from: from)
        return from != .healthy
    }

    /// Every version that is not healthy, most severe first.
    public var statuses: [Status] {
        mutex.lock()
        defer { mutex.unlock() }
        let order: [State: Int] = [.disabled: 0, .probing: 1, .degraded: 2, .healthy: 3]
        return versions.compactMap { version, tracker in tracker.state == .healthy ? nil : status(version, tracker) }
            .sorted { (order[$0.state]!, $0.version) < (order[$1.state]!, $1.version) }
    }

    // MARK: - Under the lock

    private func add(_ tracker: inout Tracker, now: UInt64, events: Int, limitHits: Int, workerEndings: Int) {
        let width = max(nanoseconds(configuration.window) / 10, 1)
        tracker.buckets.removeAll { now &- $0.start >= nanoseconds(configuration.window) }
        if tracker.buckets.last.map({ now &- $0.start < width }) != true { tracker.buckets.append(Bucket(start: now)) }
        tracker.buckets[tracker.buckets.count - 1].events += events
        tracker.buckets[tracker.buckets.count - 1].limitHits += limitHits
        tracker.buckets[tracker.buckets.count - 1].workerEndings += workerEndings
    }

    private func sums(_ tracker: Tracker) -> (events: Int, limitHits: Int, workerEndings: Int) {
        tracker.buckets.reduce((0, 0, 0)) { ($0.0 + $1.events, $0.1 + $1.limitHits, $0.2 + $1.workerEndings) }
    }

    private func disable(_ tracker: inout Tracker, now: UInt64, reason: String) {
        tracker.state = .disabled
        tracker.disabledAt = now
        tracker.retryAt = now + tracker.disabledFor
        tracker.reason = reason
    }

    private func describe(events: Int, limitHits: Int, workerEndings: Int) -> String {
        "\(workerEndings) of its events ended a worker process and \(limitHits) of \(events) hit a limit"
    }

    private func disabledMessage(_ version: String, _ tracker: Tracker, now: UInt64) -> String {
        let retry = tracker.state == .probing ? "it is being tried again now"
            : "it will be tried again at \(Self.timestamp(Self.wallClock(of: tracker.retryAt, now: now)))"
        return "transformation \(tracker.transformation) version \(version) is disabled: \(tracker.reason); \(retry)"
    }

    private func status(_ version: String, _ tracker: Tracker) -> Status {
        let now = clock()
        let totals = sums(tracker)
        let disabled = tracker.state == .disabled || tracker.state == .probing
        return Status(version: version, transformation: tracker.transformation, state: tracker.state, reason: tracker.reason,
                      disabledAt: disabled ? Self.wallClock(of: tracker.disabledAt, now: now) : nil,
                      retryAt: disabled ? Self.wallClock(of: tracker.retryAt, now: now) : nil,
                      workerEndings: totals.workerEndings, limitHits: totals.limitHits, events: totals.events)
    }

    private func notify(_ version: String, _ tracker: Tracker, from: State) {
        observer(Transition(status: status(version, tracker), from: from))
    }

    private func nanoseconds(_ duration: Duration) -> UInt64 {
        UInt64(max(0, duration.millisecondsValue)) * 1_000_000
    }

    /// A monotonic instant as wall-clock seconds since 1970.
    static func wallClock(of instant: UInt64, now: UInt64) -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let wall = Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        return wall + (Double(instant) - Double(now)) / 1e9
    }

    /// `2026-12-04T20:15:00Z`.
    public static func timestamp(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded())
        var parts = tm()
        gmtime_r(&time, &parts)
        func two(_ value: Int32) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
