import Foundation

/// The last minutes of each transformation's traffic, for Studio's live charts (docs/studio.md):
/// fed by ``ServiceMetrics``' own batch call, with the same counts `/metrics` exports (events in,
/// failed events, limit hits), kept as one sample per interval (5 s) over a window (15 minutes).
///
/// A sample holds its interval's counts (the page turns them into rates: events ÷ seconds) and the
/// p99 of its events' times, from a histogram of that interval alone: logarithmic buckets, eight
/// per power of two (a value is reported within about 4.5 % of the truth), kept only while the
/// interval is open — a closed sample keeps just its p99. Not the `/metrics` histogram
/// (`sluice_batch_duration_seconds`): that one times batches, in 14 buckets up to 2.5× apart, and
/// counts since the start, so a p99 of the last 5 s per event cannot be read from it. An event's
/// time is the engine's own measure of its call when the batch carries one (Studio runs do; they
/// are not recorded here), else its batch's time shared evenly among its events — what the
/// service knows of live traffic without timing each call.
///
/// **Bounded whatever the traffic**: at most ``maximumTransformations`` series, each with at most
/// ``samplesKept`` samples and one open histogram (at most 8 × 64 buckets). A transformation with
/// no event in the window is dropped; a new one past the cap evicts the one idle the longest.
public final class TrafficHistory: @unchecked Sendable {
    // @unchecked: `series` is guarded by `lock`.

    /// One interval of one transformation.
    public struct Sample: Sendable, Equatable {
        /// The interval's start, in seconds since 1970.
        public var start: Int
        public var events = 0
        /// Events that failed (any kind, limit hits included).
        public var errors = 0
        /// Events that hit the time or memory limit.
        public var limitHits = 0
        /// The p99 of the interval's per-event times, in nanoseconds; nil when it had no event.
        public var p99Nanoseconds: UInt64?
    }

    /// One transformation's samples, oldest first.
    public struct Series: Sendable, Equatable {
        public var name: String
        public var samples: [Sample]
    }

    private struct Ring {
        var closed: [Sample] = []
        var open: Sample
        var openTimes: [Int: Int] = [:]
        var lastActive: Int { open.start }
    }

    /// The length of one sample, in seconds (default 5).
    public let intervalSeconds: Int
    /// How many intervals are kept: the window is `intervalSeconds × samplesKept` (default 180: 15 minutes).
    public let samplesKept: Int
    /// At most this many transformations are followed at once (default 200).
    public let maximumTransformations: Int
    private let lock = NSLock()
    private var rings: [String: Ring] = [:]

    public init(intervalSeconds: Int = 5, samplesKept: Int = 180, maximumTransformations: Int = 200) {
        precondition(intervalSeconds > 0 && samplesKept > 0 && maximumTransformations > 0)
        self.intervalSeconds = intervalSeconds
        self.samplesKept = samplesKept
        self.maximumTransformations = maximumTransformations
    }

    /// The window, in seconds.
    public var windowSeconds: Int { intervalSeconds * samplesKept }

    /// One batch of `transformation`: its events, failed events and limit hits, and each event's
    /// time — `measured` (one per event) when the engine timed them, else `batchNanoseconds`
    /// shared evenly among the events.
    public func record(transformation: String, events: Int, errors: Int, limitHits: Int,
                       measured: [UInt64] = [], batchNanoseconds: UInt64, at now: Date = Date()) {
        guard events > 0 else { return }
        let start = intervalStart(now)
        lock.lock()
        defer { lock.unlock() }
        var ring: Ring
        if let existing = rings.removeValue(forKey: transformation) {
            ring = existing
            if ring.open.start != start { close(&ring, openingAt: start) }
        } else {
            makeRoom(now: start)
            ring = Ring(open: Sample(start: start))
        }
        ring.open.events += events
        ring.open.errors += errors
        ring.open.limitHits += limitHits
        if measured.count == events {
            for nanoseconds in measured { ring.openTimes[Self.bucket(nanoseconds), default: 0] += 1 }
        } else {
            ring.openTimes[Self.bucket(batchNanoseconds / UInt64(events)), default: 0] += events
        }
        rings[transformation] = ring
    }

    /// Every transformation with events in the window, by name, each with its samples in the
    /// window (intervals without events are left out; the open one has its p99 so far).
    public func series(at now: Date = Date()) -> [Series] {
        let current = intervalStart(now)
        lock.lock()
        defer { lock.unlock() }
        dropIdle(now: current)
        return rings.keys.sorted().compactMap { name in
            let ring = rings[name]!
            var samples = ring.closed.filter { $0.start > current - windowSeconds }
            var open = ring.open
            open.p99Nanoseconds = Self.p99(ring.openTimes)
            samples.append(open)
            return Series(name: name, samples: samples)
        }
    }

    /// How many transformations are followed now.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return rings.count
    }

    /// The series as Studio's `GET /studio/api/traffic` answers them.
    public func jsonObject(at now: Date = Date()) -> [String: Any] {
        let interval = Double(intervalSeconds)
        return [
            "intervalSeconds": intervalSeconds, "windowSeconds": windowSeconds, "now": now.timeIntervalSince1970,
            "transformations": series(at: now).map { series in
                [
                    "name": series.name,
                    "samples": series.samples.map { sample in
                        [
                            "at": sample.start, "events": sample.events, "eventsPerSecond": Double(sample.events) / interval,
                            "errors": sample.errors, "limitHits": sample.limitHits,
                            "p99Milliseconds": sample.p99Nanoseconds.map { Double($0) / 1_000_000 } ?? NSNull(),
                        ] as [String: Any]
                    },
                ] as [String: Any]
            },
        ]
    }

    // MARK: - Inside the lock

    private func intervalStart(_ date: Date) -> Int {
        let seconds = Int(date.timeIntervalSince1970.rounded(.down))
        return seconds - ((seconds % intervalSeconds) + intervalSeconds) % intervalSeconds
    }

    /// Closes the open sample (keeping its p99 only) and opens one at `start`; samples that left
    /// the window go.
    private func close(_ ring: inout Ring, openingAt start: Int) {
        var closed = ring.open
        closed.p99Nanoseconds = Self.p99(ring.openTimes)
        ring.closed.append(closed)
        let oldest = start - windowSeconds
        if let keep = ring.closed.firstIndex(where: { $0.start > oldest }) {
            ring.closed.removeFirst(keep)
        } else {
            ring.closed.removeAll()
        }
        if ring.closed.count >= samplesKept { ring.closed.removeFirst(ring.closed.count - samplesKept + 1) }
        ring.open = Sample(start: start)
        ring.openTimes.removeAll(keepingCapacity: true)
    }

    /// Transformations without an event in the window go.
    private func dropIdle(now start: Int) {
        let oldest = start - windowSeconds
        for (name, ring) in rings where ring.lastActive <= oldest { rings.removeValue(forKey: name) }
    }

    /// Room for one more transformation: idle ones go, then, at the cap, the one idle the longest.
    private func makeRoom(now start: Int) {
        guard rings.count >= maximumTransformations else { return }
        dropIdle(now: start)
        while rings.count >= maximumTransformations {
            guard let stalest = rings.min(by: { ($0.value.lastActive, $0.key) < ($1.value.lastActive, $1.key) })?.key else { return }
            rings.removeValue(forKey: stalest)
        }
    }

    // MARK: - Per-event times

    /// Eight buckets per power of two: `floor(8 × log2(nanoseconds))`.
    static func bucket(_ nanoseconds: UInt64) -> Int {
        Int((8 * log2(Double(max(nanoseconds, 1)))).rounded(.down))
    }

    /// The middle of a bucket (geometrically), in nanoseconds.
    static func value(ofBucket bucket: Int) -> UInt64 {
        UInt64(exp2((Double(bucket) + 0.5) / 8).rounded())
    }

    /// The bucket the 99th percentile falls in, as its middle; nil without events.
    static func p99(_ buckets: [Int: Int]) -> UInt64? {
        let total = buckets.values.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = (total * 99 + 99) / 100   // ⌈0.99 × total⌉, in integers
        var seen = 0
        for bucket in buckets.keys.sorted() {
            seen += buckets[bucket]!
            if seen >= rank { return value(ofBucket: bucket) }
        }
        return nil
    }
}
