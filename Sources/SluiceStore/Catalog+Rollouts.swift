import Foundation
import SluiceCore
import SluiceRegistry

/// Canary rollouts of API transformations and their audit list: starting one (validated against
/// the catalog), changing it (a step, a promotion, a rollback, an abort) as a compare-and-set in
/// the store so that replicas racing to make the same change make it once, and reading it for
/// requests through a short cache like the live pointer's.
extension Catalog {
    /// The rollout of `name` — in progress, or the last one with how it ended — re-read from the
    /// store at most once per `liveTTL`; nil when it never had one.
    public func rollout(name: String) async throws(Failure) -> Rollout? {
        if let cached = rolloutCache.fresh(name, within: liveTTL) { return cached }
        return try await storedRollout(name: name)
    }

    /// The rollout of `name` cached within `liveTTL`: `.some(nil)` when it has none, nil when the
    /// store must be asked.
    public func cachedRollout(name: String) -> Rollout?? {
        rolloutCache.fresh(name, within: liveTTL)
    }

    /// The rollout of `name` for a request: the cached one, else the store's, waiting for it (so
    /// only from the engine threads, never from async code). When the store fails, the last one
    /// read (or none) is kept for another `liveTTL`, so an outage costs one wait per name and
    /// interval, never one per request.
    public func rolloutForRequest(name: String) -> Rollout? {
        if let cached = rolloutCache.fresh(name, within: liveTTL) { return cached }
        do {
            return try waitFor { try await self.storedRollout(name: name) }
        } catch {
            let last = rolloutCache.last(name)
            rolloutCache.set(name, last)
            return last
        }
    }

    /// The rollout of `name` as the store has it now (and cached).
    public func storedRollout(name: String) async throws(Failure) -> Rollout? {
        let stored = try await storeCall { try await store.rollout(name) }
        var rollout: Rollout?
        if let stored { rollout = try Self.decodeRollout(stored, name: name) }
        rolloutCache.set(name, rollout)
        return rollout
    }

    /// Every rollout in progress, from the store, and the names whose rollout document cannot be
    /// read (one unreadable document does not stop the others' steps and rollbacks).
    public func activeRollouts() async throws(Failure) -> (active: [Rollout], unreadable: [String]) {
        var active: [Rollout] = []
        var unreadable: [String] = []
        for (name, stored) in try await storeCall({ try await store.rollouts() }).sorted(by: { $0.key < $1.key }) {
            guard let rollout = try? Self.decodeRollout(stored, name: name) else {
                unreadable.append(name)
                continue
            }
            rolloutCache.set(name, rollout)
            if rollout.isActive { active.append(rollout) }
        }
        return (active, unreadable)
    }

    /// Starts a rollout of `candidate` (one of the transformation's versions, not the live one)
    /// and records it in the audit list. 404: no such transformation or version; 409: the folder
    /// manages it, it has no live version, the candidate is live already, or a rollout is in
    /// progress.
    public func startRollout(name: String, _ request: RolloutRequest, actor: String, now: Date = Date()) async throws(Failure) -> Rollout {
        if folder.version(name)?.name == name { throw .conflict("\(name) is managed in the transformations folder; roll it out there") }
        guard let item = try await transformation(name) else { throw .notFound("transformation \(name) not found") }
        guard let live = item.liveVersion else { throw .conflict("transformation \(name) has no live version to compare a candidate with: publish code first") }
        guard let candidate = try await storeCall({ try await store.document(.transformation, id: request.candidate) }), candidate.name == name else {
            throw .notFound("candidate: transformation \(name) has no version \(request.candidate)")
        }
        guard request.candidate != live else { throw .conflict("candidate \(request.candidate) is the live version of \(name) already") }
        let previous = try await storedRollout(name: name)
        if let previous, previous.isActive {
            throw .conflict("a rollout of \(name) is in progress (candidate \(previous.candidate) at \(Rollout.percentText(previous.percent)) %): promote it or DELETE it first")
        }
        var rollout = Rollout(id: "ro-" + UUID().uuidString.lowercased(), name: name, live: live, candidate: request.candidate, basisPoints: request.basisPoints,
                              rollback: request.rollback, steps: request.steps, stepsTaken: 0, state: .active,
                              startedAt: storeTimestamp(now), startedBy: actor)
        let expected = previous?.revision ?? 0
        let entry = AuditEntry(at: rollout.startedAt, actor: actor, action: .start, transformation: name, rollout: rollout.id, live: live,
                               candidate: rollout.candidate, percent: rollout.percent)
        guard try await storeCall({ try await store.replaceRollout(name, document: Self.encode(rollout), expectedRevision: expected, auditEntry: Self.encode(entry)) }) else {
            throw .conflict("another rollout of \(name) started at the same time")
        }
        rollout.revision = expected + 1
        rolloutCache.set(name, rollout)
        return rollout
    }

    /// A change to the rollout in progress of `name` (`rolloutID`, when given, must be it): the
    /// changed document replaces the stored one if nobody changed it first, with the change's
    /// audit entry in the same write. A promotion makes the candidate live (``publish(name:versionID:)``)
    /// once it has won. Nil when there is no such rollout in progress any more — another replica
    /// (or request) changed it first.
    public func changeRollout(name: String, rolloutID: String? = nil, action: AuditEntry.Action, actor: String, reason: String? = nil,
                              counts: [String: RolloutCounts]? = nil, now: Date = Date(), _ change: (inout Rollout) -> Void) async throws(Failure) -> Rollout? {
        // A lost race is re-read once more: a step that won may leave a rollback still to do.
        for _ in 0..<3 {
            guard var rollout = try await storedRollout(name: name), rollout.isActive, rolloutID == nil || rollout.id == rolloutID else { return nil }
            let before = rollout
            change(&rollout)
            if rollout.state != .active {
                rollout.endedAt = storeTimestamp(now)
                rollout.endedBy = actor
                rollout.reason = reason
                rollout.finalCounts = counts
            }
            let entry = AuditEntry(at: storeTimestamp(now), actor: actor, action: action, transformation: name, rollout: rollout.id, live: rollout.live,
                                   candidate: rollout.candidate, percent: rollout.percent,
                                   fromPercent: before.basisPoints != rollout.basisPoints ? before.percent : nil, reason: reason, counts: counts)
            guard try await storeCall({
                try await store.replaceRollout(name, document: Self.encode(rollout), expectedRevision: before.revision, auditEntry: Self.encode(entry))
            }) else { continue }
            rollout.revision = before.revision + 1
            rolloutCache.set(name, rollout)
            if rollout.state == .promoted { try await publish(name: name, versionID: rollout.candidate) }
            return rollout
        }
        return nil
    }

    /// The audit list of `name`, oldest first.
    public func audit(name: String) async throws(Failure) -> [AuditEntry] {
        let entries = try await storeCall { try await store.audit(name) }
        var decoded: [AuditEntry] = []
        for data in entries {
            guard let entry = try? JSONDecoder().decode(AuditEntry.self, from: data) else { throw .store("an audit entry of \(name) is unreadable") }
            decoded.append(entry)
        }
        return decoded
    }

    /// Stores this replica's counts of `rolloutID` (by `live` and `candidate`), for the others.
    public func publishCounts(rolloutID: String, replica: String, _ counts: [String: RolloutCounts]) async throws(Failure) {
        try await storeCall { try await store.putRolloutCounts(rolloutID, replica: replica, document: Self.encode(counts)) }
    }

    /// The counts of `rolloutID` summed over every replica that published some (unreadable ones
    /// left out), by `live` and `candidate`; nil when none has.
    public func fleetCounts(rolloutID: String) async throws(Failure) -> [String: RolloutCounts]? {
        let documents = try await storeCall { try await store.rolloutCounts(rolloutID) }
        var total: [String: RolloutCounts]?
        for document in documents.values {
            guard let counts = try? JSONDecoder().decode([String: RolloutCounts].self, from: document) else { continue }
            var sum = total ?? [:]
            for (role, part) in counts {
                var entry = sum[role] ?? RolloutCounts(version: part.version)
                entry.events += part.events
                entry.errors += part.errors
                entry.limitHits += part.limitHits
                sum[role] = entry
            }
            total = sum
        }
        return total
    }

    /// A rollout or an audit entry as its stored JSON.
    static func encode(_ value: some Encodable) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)) ?? Data()
    }

    static func decodeRollout(_ stored: StoredRollout, name: String) throws(Failure) -> Rollout {
        guard var rollout = try? JSONDecoder().decode(Rollout.self, from: stored.document) else { throw .store("the rollout of \(name) is unreadable in the store") }
        rollout.revision = stored.revision
        return rollout
    }
}

/// The rollouts a catalog read, by transformation name, each with when it was read.
final class RolloutCache: @unchecked Sendable {
    // @unchecked: `entries` is guarded by `lock`.
    private let lock = NSLock()
    private var entries: [String: (rollout: Rollout?, read: ContinuousClock.Instant)] = [:]

    /// The cached rollout when read within `ttl`: `.some(nil)` for none.
    func fresh(_ name: String, within ttl: Duration) -> Rollout?? {
        lock.withLock {
            guard let entry = entries[name], ContinuousClock.now - entry.read < ttl else { return nil }
            return .some(entry.rollout)
        }
    }

    /// The last rollout read, however long ago.
    func last(_ name: String) -> Rollout? {
        lock.withLock { entries[name]?.rollout }
    }

    func set(_ name: String, _ rollout: Rollout?) {
        lock.withLock { entries[name] = (rollout, ContinuousClock.now) }
    }
}
