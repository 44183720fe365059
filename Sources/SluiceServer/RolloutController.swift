import Foundation
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceStore

/// Applies canary rollouts (SluiceStore's ``Rollout``, kept in the catalog's store) to
/// `/customTransform`: tells the handler which groups to split (``plan(for:serviceLimits:)``),
/// counts each version's outcomes (``record(_:live:candidate:)``), rolls a failing candidate back
/// as soon as its counts say so, and on a timer (``tick()``) applies due steps and ends rollouts
/// whose live version changed some other way. Every change is recorded in the audit list,
/// logged and counted in the metrics.
///
/// Each replica counts the events it runs and publishes its counts in the store every second;
/// the timer's rollback check, `GET …/rollout` and the audit list use the sum over every replica
/// (``fleetCounts(of:)``), and each replica also checks its own counts after every split group,
/// so a candidate failing badly is rolled back at once. Whoever finds it failing first rolls it
/// back for all (the change is a compare-and-set in the shared store, re-read by every replica
/// within `liveTTL`).
public final class RolloutController: @unchecked Sendable {
    // @unchecked: `tallies`, `unpublished` and `rollingBack` are guarded by `lock`.
    public let catalog: Catalog
    let metrics: ServiceMetrics?
    let logger: Logger?
    /// Who the audit list names for changes nobody asked for (steps, rollbacks, supersessions);
    /// also the name this replica's counts are published under, so unique per process.
    let automaticActor: String
    /// The wall clock steps are due by (a test's own clock in tests).
    let now: @Sendable () -> Date
    private let lock = NSLock()
    private var tallies: [String: (live: OutcomeTally, candidate: OutcomeTally)] = [:]
    /// Rollouts whose counts changed since this replica last published them.
    private var unpublished: Set<String> = []
    private var rollingBack: Set<String> = []
    /// The unreadable rollouts last logged: logged again only when the set changes, not every tick.
    private var reportedUnreadable: Set<String> = []

    public init(catalog: Catalog, metrics: ServiceMetrics? = nil, logger: Logger? = nil, automaticActor: String = "sluice",
                now: @escaping @Sendable () -> Date = { Date() }) {
        self.catalog = catalog
        self.metrics = metrics
        self.logger = logger
        self.automaticActor = automaticActor
        self.now = now
    }

    /// How to run a group of a transformation with a rollout in progress.
    public struct Plan: Sendable {
        public let rollout: Rollout
        public let candidate: Program
        /// The candidate's own limits applied to the service's.
        public let candidateLimits: Limits
    }

    /// The plan for a group whose version resolved to `program`: nil (run it as usual) unless
    /// `program` is the live version a rollout in progress started from. Reads the rollout through
    /// the catalog's cache, waiting for the store at most once per `liveTTL` and name — so only
    /// from the engine threads, never from async code. A store that fails leaves the last
    /// rollout read in force (or none).
    public func plan(for program: Program, serviceLimits: Limits) -> Plan? {
        let name = program.source.name
        // Only the catalog's own versions can have one: never the folder's (they change only in
        // the folder) or the config backend's (the store is not asked about them at all).
        if catalog.folder.version(name)?.id == program.id || catalog.cachedResolve(program.id) == nil { return nil }
        let catalog = self.catalog
        guard let rollout = catalog.rolloutForRequest(name: name), rollout.isActive, rollout.live == program.id else { return nil }
        let candidateID = rollout.candidate
        let cachedCandidate = catalog.cachedResolve(candidateID)
        guard let candidate = cachedCandidate ?? ((try? waitFor { try await catalog.version(id: candidateID) }) ?? nil) else {
            logger?.error("rollout candidate unreadable; its events run the live version", metadata: [
                "transformation.name": "\(name)", "rollout.id": "\(rollout.id)", "rollout.candidate": "\(candidateID)",
            ])
            return nil
        }
        return Plan(rollout: rollout, candidate: Program(candidate), candidateLimits: candidate.limits.applied(to: serviceLimits))
    }

    /// Counts what each version's share of a group ended in, and rolls the candidate back (on
    /// another task: the engine thread does not wait) when the counts now call for it.
    public func record(_ plan: Plan, live: OutcomeTally, candidate: OutcomeTally) {
        let rollout = plan.rollout
        let counts = lock.withLock { () -> [String: RolloutCounts] in
            var entry = tallies[rollout.id] ?? (live: OutcomeTally(), candidate: OutcomeTally())
            entry.live.add(live)
            entry.candidate.add(candidate)
            tallies[rollout.id] = entry
            unpublished.insert(rollout.id)
            return Self.counts(rollout, entry)
        }
        metrics?.rolloutEvents(transformation: rollout.name, version: rollout.live, role: "live", events: live.events)
        metrics?.rolloutEvents(transformation: rollout.name, version: rollout.candidate, role: "candidate", events: candidate.events)
        guard let reason = rollout.rollback.rollbackReason(live: counts["live"]!, candidate: counts["candidate"]!) else { return }
        guard lock.withLock({ rollingBack.insert(rollout.id).inserted }) else { return }
        Task { await self.rollBack(rollout, reason: reason, counts: counts) }
    }

    /// This replica's counts of `rollout`, by `live` and `candidate` (its final counts once it
    /// ended, when this replica has none).
    public func counts(of rollout: Rollout) -> [String: RolloutCounts] {
        let entry = lock.withLock { tallies[rollout.id] }
        if entry == nil, let final = rollout.finalCounts { return final }
        return Self.counts(rollout, entry ?? (live: OutcomeTally(), candidate: OutcomeTally()))
    }

    /// Every replica's counts of `rollout` summed (this replica's published first, when they
    /// changed); this replica's alone when the store cannot be read.
    public func fleetCounts(of rollout: Rollout) async -> [String: RolloutCounts] {
        let local = counts(of: rollout)
        let publish = lock.withLock { unpublished.remove(rollout.id) != nil }
        do {
            if publish { try await catalog.publishCounts(rolloutID: rollout.id, replica: automaticActor, local) }
            return try await catalog.fleetCounts(rolloutID: rollout.id) ?? local
        } catch {
            if publish { _ = lock.withLock { unpublished.insert(rollout.id) } }
            logger?.warning("rollout counts could not be shared through the store; this replica's are used", metadata: [
                "transformation.name": "\(rollout.name)", "rollout.id": "\(rollout.id)", "error": "\(error)",
            ])
            return local
        }
    }

    private static func counts(_ rollout: Rollout, _ entry: (live: OutcomeTally, candidate: OutcomeTally)) -> [String: RolloutCounts] {
        ["live": RolloutCounts(version: rollout.live, tally: entry.live), "candidate": RolloutCounts(version: rollout.candidate, tally: entry.candidate)]
    }

    // MARK: - Changes

    /// Starts a rollout (see ``Catalog/startRollout(name:_:actor:now:)`` for its checks).
    public func start(name: String, _ request: RolloutRequest, actor: String) async throws(Catalog.Failure) -> Rollout {
        let rollout = try await catalog.startRollout(name: name, request, actor: actor, now: now())
        changed(rollout, action: .start, actor: actor, reason: nil)
        return rollout
    }

    /// Makes the candidate of `name`'s rollout in progress the live version and ends the rollout;
    /// nil when none is in progress.
    public func promote(name: String, actor: String, reason: String? = nil) async throws(Catalog.Failure) -> Rollout? {
        guard let current = try await catalog.storedRollout(name: name), current.isActive else { return nil }
        let counts = await fleetCounts(of: current)
        let promoted = try await catalog.changeRollout(name: name, rolloutID: current.id, action: .promote, actor: actor, reason: reason, counts: counts,
                                                       now: now()) { rollout in
            rollout.state = .promoted
            rollout.basisPoints = RolloutSplit.basisPoints
            rollout.stepsTaken = rollout.steps.count
        }
        if let promoted { changed(promoted, action: .promote, actor: actor, reason: reason) }
        return promoted
    }

    /// Ends `name`'s rollout in progress; the live version stays. Nil when none is in progress.
    public func abort(name: String, actor: String) async throws(Catalog.Failure) -> Rollout? {
        guard let current = try await catalog.storedRollout(name: name), current.isActive else { return nil }
        let aborted = try await catalog.changeRollout(name: name, rolloutID: current.id, action: .abort, actor: actor, counts: await fleetCounts(of: current),
                                                      now: now()) { $0.state = .aborted }
        if let aborted { changed(aborted, action: .abort, actor: actor, reason: nil) }
        return aborted
    }

    /// Rolls `rollout` back: its events run the live version again.
    func rollBack(_ rollout: Rollout, reason: String, counts: [String: RolloutCounts]) async {
        defer { _ = lock.withLock { rollingBack.remove(rollout.id) } }
        do {
            guard let ended = try await catalog.changeRollout(name: rollout.name, rolloutID: rollout.id, action: .rollback, actor: automaticActor,
                                                              reason: reason, counts: counts, now: now(), { $0.state = .rolledBack }) else { return }
            metrics?.rolloutRollback(transformation: rollout.name)
            changed(ended, action: .rollback, actor: automaticActor, reason: reason)
        } catch {
            logger?.error("rollout rollback could not be stored; retried on the next tick", metadata: [
                "transformation.name": "\(rollout.name)", "rollout.id": "\(rollout.id)", "error": "\(error)",
            ])
        }
    }

    /// Applies what is due for every rollout in progress: a rollout whose live version changed
    /// some other way ends (`superseded`), a candidate whose counts call for it is rolled back,
    /// and the last due step is applied (a step to 100 % promotes). The service calls it every
    /// second (``run(every:)``).
    public func tick() async {
        let active: [Rollout]
        do {
            let found = try await catalog.activeRollouts()
            active = found.active
            let unreadable = Set(found.unreadable)
            let changed = lock.withLock { () -> Bool in
                defer { reportedUnreadable = unreadable }
                return unreadable != reportedUnreadable
            }
            if changed && !unreadable.isEmpty {
                logger?.error("rollouts unreadable in the store (logged again when this list changes)",
                              metadata: ["transformation.names": .array(found.unreadable.map { "\($0)" })])
            }
        } catch {
            logger?.warning("rollouts could not be read from the store", metadata: ["error": "\(error)"])
            return
        }
        for rollout in active {
            do {
                try await advance(rollout)
            } catch {
                logger?.error("rollout could not be advanced", metadata: [
                    "transformation.name": "\(rollout.name)", "rollout.id": "\(rollout.id)", "error": "\(error)",
                ])
            }
        }
    }

    private func advance(_ rollout: Rollout) async throws(Catalog.Failure) {
        let live = try await catalog.transformation(rollout.name)?.liveVersion
        if live != rollout.live {
            let reason = "the live version changed to \(live ?? "none") outside the rollout"
            if let ended = try await catalog.changeRollout(name: rollout.name, rolloutID: rollout.id, action: .supersede, actor: automaticActor,
                                                           reason: reason, counts: await fleetCounts(of: rollout), now: now(), { $0.state = .superseded }) {
                changed(ended, action: .supersede, actor: automaticActor, reason: reason)
            }
            return
        }
        let counts = await fleetCounts(of: rollout)
        if let reason = rollout.rollback.rollbackReason(live: counts["live"]!, candidate: counts["candidate"]!) {
            guard lock.withLock({ rollingBack.insert(rollout.id).inserted }) else { return }
            await rollBack(rollout, reason: reason, counts: counts)
            return
        }
        guard let due = rollout.dueStep(at: now()) else { return }
        let reason = "scheduled step: \(Rollout.percentText(due.step.percent)) % after \(due.step.after)"
        if due.step.basisPoints >= RolloutSplit.basisPoints {
            _ = try await promote(name: rollout.name, actor: automaticActor, reason: reason)
            return
        }
        if let stepped = try await catalog.changeRollout(name: rollout.name, rolloutID: rollout.id, action: .step, actor: automaticActor, reason: reason,
                                                         counts: counts, now: now(), { stepping in
                                                             stepping.basisPoints = due.step.basisPoints
                                                             stepping.stepsTaken = due.taken
                                                         }) {
            changed(stepped, action: .step, actor: automaticActor, reason: reason)
        }
    }

    /// Ticks every `interval` until the controller is gone.
    public func run(every interval: Duration) {
        Task { [weak self] in
            while true {
                try? await Task.sleep(for: interval)
                guard let self else { return }
                await self.tick()
            }
        }
    }

    /// Logs and counts a change that won.
    private func changed(_ rollout: Rollout, action: AuditEntry.Action, actor: String, reason: String?) {
        metrics?.rolloutChange(transformation: rollout.name, action: action.rawValue)
        guard let logger else { return }
        var metadata: Logger.Metadata = [
            "transformation.name": "\(rollout.name)", "rollout.id": "\(rollout.id)", "rollout.action": "\(action.rawValue)",
            "rollout.state": "\(rollout.state.rawValue)", "rollout.percent": "\(Rollout.percentText(rollout.percent))",
            "transformation.version": "\(rollout.live)", "rollout.candidate": "\(rollout.candidate)", "actor": "\(actor)",
        ]
        if let reason { metadata["reason"] = "\(reason)" }
        if action == .rollback {
            logger.error("rollout rolled back", metadata: metadata)
        } else {
            logger.notice("rollout \(action.rawValue)", metadata: metadata)
        }
    }
}
