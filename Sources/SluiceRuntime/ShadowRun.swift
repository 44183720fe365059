import Foundation
import SluiceCore
import SluiceRegistry

/// A shadow run: a candidate version of a transformation run beside its live version on a
/// sample of live batches, after the live results are known, and compared with them per event
/// (``ReplaySummary``, the comparison `sluice replay` makes). Live traffic is never answered from
/// the candidate. Thread-safe: live batches are offered from every engine thread, and the
/// report is read from the HTTP threads. State is in memory, per process.
public final class ShadowRun: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.

    public struct Settings: Sendable {
        /// The share of live batches also run through the candidate, above 0 and at most 1.
        public var sampleRate: Double
        /// The largest share of the machine's CPU time (all cores) candidate batches may take,
        /// above 0 and at most 1. Default 0.25. Measured as the time a candidate batch occupies
        /// an engine (one core): after a batch that took `d`, the next may start only once
        /// `d × (1 / (share × cores) − 1)` has passed (no wait when `share × cores` ≥ 1).
        public var maxCpuShare = 0.25
        /// Result paths left out of the comparison (`*`, `[*]` allowed), as `sluice replay --ignore`.
        public var ignore: [String] = []
        /// Input paths whose values examples show as `"[redacted]"`: the recording rules
        /// (``JSONDifference/redacted(inputPaths:)``).
        public var redact: [String] = []
        /// Differing events kept in full. Default 5.
        public var examples = 5

        public init(sampleRate: Double) {
            self.sampleRate = sampleRate
        }
    }

    /// Why a sampled batch was not run through the candidate (it is dropped, never queued).
    public enum Skip: String, Sendable, CaseIterable {
        /// No engine was idle: every worker had live work, or live requests were waiting.
        case busy
        /// Another candidate batch was still running (one at a time per process).
        case inFlight = "in_flight"
        /// The candidate's batches had used their share of the CPU (``Settings/maxCpuShare``).
        case cpuShare = "cpu_share"
    }

    public let transformation: String
    public let candidate: TransformationVersion
    /// The live version when the shadow started.
    public let liveVersion: String
    public let settings: Settings
    public let since: Date

    private let lock = ThreadLock()
    private var batchesSeen = 0
    private var batchesSampled = 0
    private var batchesCompared = 0
    private var batchesFailed = 0
    private var lastFailure: String?
    private var skipped: [Skip: Int] = [:]
    private var summary = ReplaySummary()
    private var comparedVersions: [String: Int] = [:]
    private var stoppedAt: Date?
    private var notBefore: ContinuousClock.Instant?
    /// The next random number (from the generator given to `init`), under `lock`.
    private let nextRandom: () -> UInt64

    /// `random` decides which batches are sampled (tests pass a seeded one).
    public init(transformation: String, candidate: TransformationVersion, liveVersion: String, settings: Settings,
                since: Date = Date(), random: any RandomNumberGenerator = SystemRandomNumberGenerator()) {
        self.transformation = transformation
        self.candidate = candidate
        self.liveVersion = liveVersion
        self.settings = settings
        self.since = since
        nextRandom = Self.source(random)
    }

    private static func source<Generator: RandomNumberGenerator>(_ generator: Generator) -> () -> UInt64 {
        var generator = generator
        return { generator.next() }
    }

    /// A live batch of the transformation ran: true when it is sampled (the caller then runs it
    /// through the candidate, or reports why not with ``skip(_:)``). Never after ``stop()``.
    public func sample() -> Bool {
        lock.withLock {
            guard stoppedAt == nil else { return false }
            batchesSeen += 1
            guard settings.sampleRate >= 1 || Double(nextRandom() >> 11) * 0x1p-53 < settings.sampleRate else { return false }
            batchesSampled += 1
            return true
        }
    }

    /// Whether the candidate may run now under ``Settings/maxCpuShare``.
    public func withinCpuShare(now: ContinuousClock.Instant = .now) -> Bool {
        lock.withLock { notBefore.map { now >= $0 } ?? true }
    }

    /// A sampled batch that was dropped, and why.
    public func skip(_ reason: Skip) {
        lock.withLock { skipped[reason, default: 0] += 1 }
    }

    /// The candidate ran on a sampled batch (`inputs` are its events, `live` what the live
    /// version `liveVersion` answered, `candidate` what the candidate did, `elapsed` the engine
    /// time it took, `cores` the machine's). Every event is compared and counted; a batch the
    /// candidate could not run for a reason a retry can fix (a lost worker) is counted as failed
    /// and not compared. Returns each class's count of this batch's events (``ReplaySummary/kinds``),
    /// empty when nothing was compared (or after ``stop()``).
    @discardableResult
    public func record(inputs: [JSONText], liveVersion: String, live: BatchResult, candidate: Execution, batch: Batch,
                       elapsed: Duration, cores: Int, now: ContinuousClock.Instant = .now) -> [String: Int] {
        let share = settings.maxCpuShare * Double(max(1, cores))
        let gap = share < 1 ? elapsed * (1 / share - 1) : .zero
        if case .failed(let failure) = candidate, failure.kind.isRetryable {
            return lock.withLock {
                notBefore = now + gap
                guard stoppedAt == nil else { return [:] }
                batchesFailed += 1
                lastFailure = failure.message
                return [:]
            }
        }
        let count = inputs.count
        let liveLines = ReplaySummary.resultLines(of: live, inputs: count)
        let candidateResult = candidate.results(for: batch)
        let candidateLines = ReplaySummary.resultLines(of: candidateResult, inputs: count)
        let redact = settings.redact
        return lock.withLock {
            notBefore = now + gap
            guard stoppedAt == nil else { return [:] }
            batchesCompared += 1
            comparedVersions[liveVersion, default: 0] += 1
            var classes: [String: Int] = [:]
            summary.outcomes.add(candidateResult, events: count)
            for index in 0..<count {
                let kind = summary.compare(
                    expected: liveLines[index], actual: candidateLines[index],
                    event: EventReference(line: nil, messageId: EventReference.messageId(ofInput: inputs[index])),
                    location: "batch \(batchesCompared), event \(index + 1)", ignore: settings.ignore, examples: settings.examples,
                    redact: { $0.redacted(inputPaths: redact) })
                classes[kind, default: 0] += 1
            }
            return classes
        }
    }

    /// Stops sampling; later batches are neither sampled nor recorded. Returns the final report.
    @discardableResult
    public func stop(at date: Date = Date()) -> ShadowReport {
        lock.withLock {
            if stoppedAt == nil { stoppedAt = date }
            return reportLocked()
        }
    }

    public var report: ShadowReport {
        lock.withLock { reportLocked() }
    }

    private func reportLocked() -> ShadowReport {
        ShadowReport(transformation: transformation, candidate: candidate.id, liveVersion: liveVersion, settings: settings, since: since,
                     stoppedAt: stoppedAt, batchesSeen: batchesSeen, batchesSampled: batchesSampled, batchesCompared: batchesCompared,
                     batchesFailed: batchesFailed, lastFailure: lastFailure, skipped: skipped, comparedVersions: comparedVersions, summary: summary)
    }
}

/// What a shadow run has found so far (``ShadowRun/report``).
public struct ShadowReport: Sendable {
    public var transformation: String
    public var candidate: String
    public var liveVersion: String
    public var settings: ShadowRun.Settings
    public var since: Date
    public var stoppedAt: Date?
    /// Live batches of the transformation seen since the start, those sampled, those run through
    /// the candidate and compared, and those the candidate could not run (a lost worker).
    public var batchesSeen: Int
    public var batchesSampled: Int
    public var batchesCompared: Int
    public var batchesFailed: Int
    public var lastFailure: String?
    /// Sampled batches dropped, by reason.
    public var skipped: [ShadowRun.Skip: Int]
    /// Sampled batches neither compared, failed nor skipped when the report was made: being run
    /// through the candidate (at most one at a time). A run stopped meanwhile discards its result.
    public var batchesRunning: Int { max(0, batchesSampled - batchesCompared - batchesFailed - skipped.values.reduce(0, +)) }
    /// Compared batches by the live version that answered them.
    public var comparedVersions: [String: Int]
    /// The per-event comparison: classes, paths, examples (values redacted).
    public var summary: ReplaySummary

    /// The `top` paths that differed most, most first (ties by path).
    public func topPaths(_ top: Int = 10) -> [(path: String, count: Int)] {
        summary.paths.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(top).map { ($0.key, $0.value) }
    }

    /// The report as `GET /v1/transformations/{name}/shadow` answers it (docs/http.md).
    public var jsonObject: [String: Any] {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        var object: [String: Any] = [
            "transformation": transformation, "candidate": candidate, "liveVersion": liveVersion,
            "sampleRate": settings.sampleRate, "maxCpuShare": settings.maxCpuShare, "ignore": settings.ignore,
            "since": formatter.string(from: since), "state": stoppedAt == nil ? "running" : "stopped",
            "batches": [
                "seen": batchesSeen, "sampled": batchesSampled, "compared": batchesCompared, "failed": batchesFailed,
                "skipped": skipped.values.reduce(0, +), "running": batchesRunning,
            ],
            "skipped": Dictionary(uniqueKeysWithValues: ShadowRun.Skip.allCases.map { ($0.rawValue, skipped[$0] ?? 0) }),
            "events": [
                "compared": summary.events, "unchanged": summary.unchanged, "changed": summary.changed,
                "newlyDropped": summary.newlyDropped, "newlyProduced": summary.newlyProduced,
                "newlyFailing": summary.newlyFailing, "newlyPassing": summary.newlyPassing,
            ],
            "candidateOutcomes": [
                "outputs": summary.outcomes.outputs, "dropped": summary.outcomes.dropped, "errors": summary.outcomes.failed,
                "limitHits": summary.outcomes.limitHits,
            ],
            "comparedVersions": comparedVersions,
            "paths": topPaths().map { ["path": $0.path, "count": $0.count] as [String: Any] },
            "examples": summary.examples.map { example -> [String: Any] in
                var event: [String: Any] = ["location": example.location, "kind": example.kind]
                if let messageId = example.event.messageId { event["messageId"] = messageId }
                event["differences"] = example.differences.map { difference -> [String: Any] in
                    var object = difference.jsonObject
                    object["event"] = nil
                    object["live"] = object.removeValue(forKey: "expected")
                    object["candidate"] = object.removeValue(forKey: "actual")
                    return object
                }
                return event
            },
        ]
        if let stoppedAt { object["stoppedAt"] = formatter.string(from: stoppedAt) }
        if let lastFailure { object["lastFailure"] = lastFailure }
        return object
    }
}
