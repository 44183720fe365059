import Foundation
import SluiceCore

/// A canary rollout of one API transformation: a share of its events (sticky per user, see
/// SluiceCore's `RolloutSplit`) runs `candidate` instead of the live version, until it is
/// promoted (the candidate becomes live), rolled back (automatically, when the candidate fails
/// more than the live version by a margin), aborted, or superseded (the live version changed
/// some other way). The document is stored per transformation (``VersionStore/replaceRollout(_:document:expectedRevision:)``),
/// so every replica sharing the store applies the same rollout; an ended rollout stays there
/// with its outcome until the next one starts.
public struct Rollout: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case active
        case promoted
        case rolledBack = "rolled_back"
        case aborted
        /// The live version changed while it ran (a publish): it no longer applied.
        case superseded
    }

    /// When the candidate is rolled back on its own (each default applies when left out).
    public struct RollbackPolicy: Sendable, Codable, Equatable {
        /// How much higher the candidate's error rate (failed events that are not limit hits, per
        /// event) may be than the live version's, as a fraction: 0.02 = two percentage points.
        public var maxErrorRateIncrease: Double = 0.02
        /// How much higher the candidate's limit-hit rate (`time_limit` and `memory_limit`
        /// failures per event) may be than the live version's.
        public var maxLimitHitRateIncrease: Double = 0.01
        /// Candidate events needed before the rates are compared (default 500).
        public var minEvents: Int = 500

        public init(maxErrorRateIncrease: Double = 0.02, maxLimitHitRateIncrease: Double = 0.01, minEvents: Int = 500) {
            self.maxErrorRateIncrease = maxErrorRateIncrease
            self.maxLimitHitRateIncrease = maxLimitHitRateIncrease
            self.minEvents = minEvents
        }

        /// Why the candidate must be rolled back given both versions' counts, or nil. Nothing is
        /// decided before the candidate has ``minEvents`` events; a live version with no events
        /// counts as failing never.
        public func rollbackReason(live: RolloutCounts, candidate: RolloutCounts) -> String? {
            guard candidate.events >= minEvents else { return nil }
            if candidate.errorRate - live.errorRate > maxErrorRateIncrease {
                return "candidate error rate \(Self.format(candidate.errorRate)) exceeds the live version's \(Self.format(live.errorRate))"
                    + " by more than \(Self.format(maxErrorRateIncrease)) (after \(candidate.events) candidate events)"
            }
            if candidate.limitHitRate - live.limitHitRate > maxLimitHitRateIncrease {
                return "candidate limit-hit rate \(Self.format(candidate.limitHitRate)) exceeds the live version's \(Self.format(live.limitHitRate))"
                    + " by more than \(Self.format(maxLimitHitRateIncrease)) (after \(candidate.events) candidate events)"
            }
            return nil
        }

        static func format(_ rate: Double) -> String { String(format: "%.4f", rate) }
    }

    /// A scheduled change of the candidate's share: `after` (as given, e.g. `10m`) from the
    /// rollout's start, it runs `percent` of events; a step to 100 % promotes the candidate.
    public struct Step: Sendable, Codable, Equatable {
        public var basisPoints: Int
        public var after: String
        public var afterSeconds: Double

        public init(basisPoints: Int, after: String, afterSeconds: Double) {
            self.basisPoints = basisPoints
            self.after = after
            self.afterSeconds = afterSeconds
        }

        public var percent: Double { Double(basisPoints) / 100 }
    }

    /// Random, so the assignment of users to versions differs between rollouts.
    public var id: String
    public var name: String
    /// The live version when it started; it applies to requests that resolve to this version.
    public var live: String
    public var candidate: String
    /// The candidate's share of events, in basis points (10 % = 1000).
    public var basisPoints: Int
    public var rollback: RollbackPolicy
    public var steps: [Step]
    /// Steps applied so far.
    public var stepsTaken: Int
    public var state: State
    /// ISO 8601, UTC.
    public var startedAt: String
    public var startedBy: String
    public var endedAt: String?
    public var endedBy: String?
    /// Why it ended (a rollback's reason, with the rates).
    public var reason: String?
    /// Counts when it ended, by `live` and `candidate` (those the replica that ended it had seen).
    public var finalCounts: [String: RolloutCounts]?
    /// The store's revision of this document (not part of the document).
    public var revision = 0

    enum CodingKeys: String, CodingKey {
        case id, name, live, candidate, basisPoints, rollback, steps, stepsTaken, state, startedAt, startedBy, endedAt, endedBy, reason, finalCounts
    }

    public var percent: Double { Double(basisPoints) / 100 }
    public var isActive: Bool { state == .active }

    /// The next step not applied yet.
    public var nextStep: Step? { stepsTaken < steps.count ? steps[stepsTaken] : nil }

    /// When `step` is due.
    public func dueDate(of step: Step) -> Date? {
        Rollout.date(startedAt).map { $0.addingTimeInterval(step.afterSeconds) }
    }

    /// The last step due at `now` that is not applied yet, with how many steps that makes taken.
    public func dueStep(at now: Date) -> (step: Step, taken: Int)? {
        guard isActive, let start = Rollout.date(startedAt) else { return nil }
        var due: (Step, Int)?
        for index in stepsTaken..<steps.count where start.addingTimeInterval(steps[index].afterSeconds) <= now {
            due = (steps[index], index + 1)
        }
        return due
    }

    /// `10`, `12.5`: a share as people write it.
    public static func percentText(_ percent: Double) -> String {
        percent == percent.rounded() ? String(Int(percent)) : String(format: "%g", percent)
    }

    static func date(_ timestamp: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.date(from: timestamp)
    }
}

/// Events of one version during a rollout, and what became of them (from ``OutcomeTally``).
public struct RolloutCounts: Sendable, Codable, Equatable {
    public var version: String
    /// Events in.
    public var events: Int
    /// Failed results that are not limit hits.
    public var errors: Int
    /// `time_limit` and `memory_limit` failures.
    public var limitHits: Int

    public init(version: String, events: Int = 0, errors: Int = 0, limitHits: Int = 0) {
        self.version = version
        self.events = events
        self.errors = errors
        self.limitHits = limitHits
    }

    public init(version: String, tally: OutcomeTally) {
        self.init(version: version, events: tally.events, errors: tally.failed - tally.limitHits, limitHits: tally.limitHits)
    }

    public var errorRate: Double { events == 0 ? 0 : Double(errors) / Double(events) }
    public var limitHitRate: Double { events == 0 ? 0 : Double(limitHits) / Double(events) }
}

/// One entry of a transformation's audit list: a rollout started, stepped, was promoted, rolled
/// back, aborted or superseded — who did it (an operator's `X-Sluice-Actor`, the client's
/// address, or `sluice` for the schedule and automatic rollbacks), when, and why.
public struct AuditEntry: Sendable, Codable, Equatable {
    public enum Action: String, Sendable, Codable {
        case start, step, promote, rollback, abort, supersede
    }

    /// ISO 8601, UTC.
    public var at: String
    public var actor: String
    public var action: Action
    public var transformation: String
    public var rollout: String
    public var live: String
    public var candidate: String
    /// The candidate's share after the action.
    public var percent: Double
    /// The share before it (steps).
    public var fromPercent: Double?
    public var reason: String?
    /// Both versions' counts when it happened, by `live` and `candidate`.
    public var counts: [String: RolloutCounts]?

    public init(at: String, actor: String, action: Action, transformation: String, rollout: String, live: String, candidate: String,
                percent: Double, fromPercent: Double? = nil, reason: String? = nil, counts: [String: RolloutCounts]? = nil) {
        self.at = at
        self.actor = actor
        self.action = action
        self.transformation = transformation
        self.rollout = rollout
        self.live = live
        self.candidate = candidate
        self.percent = percent
        self.fromPercent = fromPercent
        self.reason = reason
        self.counts = counts
    }
}

/// What `POST /v1/transformations/{name}/rollout` asks for, read from its JSON body with an
/// error naming the field that is wrong.
public struct RolloutRequest: Sendable, Equatable {
    public var candidate: String
    public var basisPoints: Int
    public var rollback: Rollout.RollbackPolicy
    public var steps: [Rollout.Step]

    public init(candidate: String, basisPoints: Int, rollback: Rollout.RollbackPolicy = .init(), steps: [Rollout.Step] = []) {
        self.candidate = candidate
        self.basisPoints = basisPoints
        self.rollback = rollback
        self.steps = steps
    }

    /// At most this many steps.
    public static let maximumSteps = 20

    /// Reads `{candidate, percent, rollback?: {maxErrorRateIncrease?, maxLimitHitRateIncrease?,
    /// minEvents?}, steps?: [{percent, after}]}`.
    public init(json object: [String: Any]) throws(Catalog.Failure) {
        let fields = ["candidate", "percent", "rollback", "steps"]
        for key in object.keys.sorted() where !fields.contains(key) {
            throw .invalid("\(key) is not a rollout field (use \(fields.joined(separator: ", ")))")
        }
        guard let candidate = object["candidate"] as? String, !candidate.isEmpty else {
            throw .invalid("candidate is required: the id of one of the transformation's versions")
        }
        self.candidate = candidate
        basisPoints = try Self.basisPoints(object["percent"], field: "percent")
        rollback = Rollout.RollbackPolicy()
        if let value = object["rollback"], !(value is NSNull) {
            guard let policy = value as? [String: Any] else { throw .invalid("rollback must be an object {maxErrorRateIncrease, maxLimitHitRateIncrease, minEvents}") }
            let keys = ["maxErrorRateIncrease", "maxLimitHitRateIncrease", "minEvents"]
            for key in policy.keys.sorted() where !keys.contains(key) { throw .invalid("rollback.\(key) is not a field (use \(keys.joined(separator: ", ")))") }
            if let value = policy["maxErrorRateIncrease"] { rollback.maxErrorRateIncrease = try Self.rate(value, field: "rollback.maxErrorRateIncrease") }
            if let value = policy["maxLimitHitRateIncrease"] { rollback.maxLimitHitRateIncrease = try Self.rate(value, field: "rollback.maxLimitHitRateIncrease") }
            if let value = policy["minEvents"] {
                guard let number = Self.number(value), number >= 1, number == number.rounded(), number <= 1e12 else {
                    throw .invalid("rollback.minEvents must be a whole number ≥ 1 (got \(Self.show(value)))")
                }
                rollback.minEvents = Int(number)
            }
        }
        steps = []
        if let value = object["steps"], !(value is NSNull) {
            guard let list = value as? [Any] else { throw .invalid("steps must be an array of {percent, after}") }
            guard list.count <= Self.maximumSteps else { throw .invalid("steps has \(list.count) steps; at most \(Self.maximumSteps)") }
            var previous = (basisPoints: basisPoints, seconds: 0.0, field: "percent")
            for (index, element) in list.enumerated() {
                let field = "steps[\(index)]"
                guard let step = element as? [String: Any] else { throw .invalid("\(field) must be an object {percent, after}") }
                for key in step.keys.sorted() where key != "percent" && key != "after" { throw .invalid("\(field).\(key) is not a field (use percent, after)") }
                let points = try Self.basisPoints(step["percent"], field: "\(field).percent")
                guard points > previous.basisPoints else {
                    throw .invalid("\(field).percent must be more than \(previous.field) (\(Self.show(Double(previous.basisPoints) / 100)))")
                }
                guard let after = step["after"] as? String, let seconds = Self.seconds(after) else {
                    throw .invalid("\(field).after must be a duration such as \"90s\", \"10m\" or \"1h\" (got \(Self.show(step["after"])))")
                }
                guard seconds > previous.seconds else {
                    throw .invalid("\(field).after must be later than \(index == 0 ? "the start" : "steps[\(index - 1)].after")")
                }
                steps.append(Rollout.Step(basisPoints: points, after: after, afterSeconds: seconds))
                previous = (points, seconds, "\(field).percent")
            }
        }
    }

    /// A share of events as basis points: a number more than 0 and at most 100 (to 0.01 %).
    static func basisPoints(_ value: Any?, field: String) throws(Catalog.Failure) -> Int {
        guard let value, !(value is NSNull) else { throw .invalid("\(field) is required: the share of events that run the candidate, more than 0 and at most 100") }
        guard let number = number(value), number > 0, number <= 100 else {
            throw .invalid("\(field) must be a number more than 0 and at most 100 (got \(show(value)))")
        }
        let points = Int((number * 100).rounded())
        guard points >= 1 else { throw .invalid("\(field) must be at least 0.01 (got \(show(value)))") }
        return points
    }

    static func rate(_ value: Any, field: String) throws(Catalog.Failure) -> Double {
        guard let number = number(value), number >= 0, number <= 1 else {
            throw .invalid("\(field) must be a fraction from 0 to 1, such as 0.02 for two percentage points (got \(show(value)))")
        }
        return number
    }

    /// A JSON number (never a boolean, which Foundation also reads as an NSNumber).
    static func number(_ value: Any) -> Double? {
        guard let number = value as? NSNumber, !isBoolean(number) else { return nil }
        return number.doubleValue
    }

    /// Foundation reads JSON `true` and `false` as NSNumbers too; their type code tells them apart.
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// `500ms`, `90s`, `10m`, `1h`, `1d` (a whole or decimal number, then one unit), as seconds.
    public static func seconds(_ text: String) -> Double? {
        let units: [(suffix: String, seconds: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400)]
        for unit in units where text.hasSuffix(unit.suffix) {
            let digits = text.dropLast(unit.suffix.count)
            guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }), let number = Double(digits), number.isFinite else { return nil }
            return number * unit.seconds
        }
        return nil
    }

    static func show(_ value: Any?) -> String {
        switch value {
        case nil, is NSNull: "nothing"
        case let string as String: JSONString.encode(string)
        case let number as NSNumber where isBoolean(number): number.boolValue ? "true" : "false"
        case let number as NSNumber: number.doubleValue == number.doubleValue.rounded() && abs(number.doubleValue) < 1e15 ? String(Int(number.doubleValue)) : "\(number.doubleValue)"
        case let double as Double: double == double.rounded() ? String(Int(double)) : "\(double)"
        case is [Any]: "an array"
        case is [String: Any]: "an object"
        default: "\(value!)"
        }
    }
}
