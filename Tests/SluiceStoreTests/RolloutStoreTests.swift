import Foundation
import Synchronization
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceStore
import SluiceTestSupport
import Testing

/// What every store must do for rollouts: compare-and-set documents and an append-only audit
/// list. Returns the name it used (whose document is not a rollout's).
@discardableResult
func exerciseRolloutStorage(_ store: any VersionStore) async throws -> String {
    let name = "r-\(UUID().uuidString.prefix(8))"
    #expect(try await store.rollout(name) == nil)
    func entry(_ text: String) -> Data { Data(#"{"action":"\#(text)"}"#.utf8) }
    #expect(try await store.replaceRollout(name, document: Data(#"{"v":1,"é":"ü"}"#.utf8), expectedRevision: 0, auditEntry: entry("start")))
    #expect(try await !store.replaceRollout(name, document: Data(#"{"v":"again"}"#.utf8), expectedRevision: 0, auditEntry: entry("lost")),
            "a second start loses")
    #expect(try await store.rollout(name) == StoredRollout(revision: 1, document: Data(#"{"v":1,"é":"ü"}"#.utf8)))
    #expect(try await store.replaceRollout(name, document: Data(#"{"v":2}"#.utf8), expectedRevision: 1, auditEntry: entry("step")))
    #expect(try await !store.replaceRollout(name, document: Data(#"{"v":"stale"}"#.utf8), expectedRevision: 1, auditEntry: entry("stale")),
            "a replica with an old revision loses")
    #expect(try await store.rollout(name) == StoredRollout(revision: 2, document: Data(#"{"v":2}"#.utf8)))
    #expect(try await store.rollouts()[name]?.revision == 2)
    _ = try await store.replaceRollout(name + "-other", document: Data("{}".utf8), expectedRevision: 0, auditEntry: entry("elsewhere"))
    #expect(try await store.audit(name).map { String(decoding: $0, as: UTF8.self) } == [#"{"action":"start"}"#, #"{"action":"step"}"#],
            "each change that won, once; none that lost")
    #expect(try await store.rolloutCounts("ro-\(name)").isEmpty)
    try await store.putRolloutCounts("ro-\(name)", replica: "a", document: Data(#"{"n":1}"#.utf8))
    try await store.putRolloutCounts("ro-\(name)", replica: "b", document: Data(#"{"n":2}"#.utf8))
    try await store.putRolloutCounts("ro-\(name)", replica: "a", document: Data(#"{"n":3}"#.utf8))
    #expect(try await store.rolloutCounts("ro-\(name)") == ["a": Data(#"{"n":3}"#.utf8), "b": Data(#"{"n":2}"#.utf8)], "one row per replica, replaced")
    return name
}

/// A catalog's rollout lifecycle over `store`: start (with its checks), a step, a promotion that
/// publishes, the audit list — and a second catalog (another replica) seeing all of it.
func exerciseRolloutLifecycle(_ first: Catalog, _ second: Catalog) async throws {
    let name = "canary-\(UUID().uuidString.prefix(8))"
    _ = try await first.createTransformation(name: name, language: "javascript", description: nil)
    let request = RolloutRequest(candidate: "sv-none", basisPoints: 1_000)
    await #expect(throws: Catalog.Failure.conflict("transformation \(name) has no live version to compare a candidate with: publish code first")) {
        try await first.startRollout(name: name, request, actor: "ops")
    }
    let candidate = try await first.publishCode(name: name, code: "export function transformEvent(e) { e.v = 2; return e; }").version
    let live = try await first.publishCode(name: name, code: "export function transformEvent(e) { return e; }").version
    await #expect(throws: Catalog.Failure.notFound("candidate: transformation \(name) has no version sv-none")) {
        try await first.startRollout(name: name, request, actor: "ops")
    }
    await #expect(throws: Catalog.Failure.conflict("candidate \(live.id) is the live version of \(name) already")) {
        try await first.startRollout(name: name, RolloutRequest(candidate: live.id, basisPoints: 1_000), actor: "ops")
    }
    await #expect(throws: Catalog.Failure.notFound("transformation nope-\(name) not found")) {
        try await first.startRollout(name: "nope-\(name)", request, actor: "ops")
    }
    let started = try await first.startRollout(name: name, RolloutRequest(candidate: candidate.id, basisPoints: 1_000), actor: "ops")
    #expect(started.isActive && started.live == live.id && started.revision == 1 && started.startedBy == "ops")
    await #expect(throws: Catalog.Failure.self) { try await second.startRollout(name: name, RolloutRequest(candidate: candidate.id, basisPoints: 500), actor: "other") }
    #expect(try await second.rollout(name: name)?.id == started.id, "the other replica applies the same rollout")

    let stepped = try #require(try await second.changeRollout(name: name, rolloutID: started.id, action: .step, actor: "sluice") { $0.basisPoints = 5_000 })
    #expect(stepped.percent == 50 && stepped.revision == 2)
    // The first replica's copy is stale: its change is made on the stored one, not lost.
    let promoted = try #require(try await first.changeRollout(name: name, rolloutID: started.id, action: .promote, actor: "ops") { $0.state = .promoted })
    #expect(promoted.state == .promoted && promoted.percent == 50 && promoted.endedBy == "ops" && promoted.revision == 3)
    #expect(try await second.liveVersion(name: name)?.id == candidate.id, "promotion publishes the candidate")
    #expect(try await first.changeRollout(name: name, action: .abort, actor: "ops") { $0.state = .aborted } == nil, "nothing in progress any more")
    #expect(try await second.activeRollouts().active.contains { $0.name == name } == false)

    let audit = try await second.audit(name: name)
    #expect(audit.map(\.action) == [.start, .step, .promote])
    #expect(audit.map(\.actor) == ["ops", "sluice", "ops"])
    #expect(audit[1].fromPercent == 10 && audit[1].percent == 50)
    #expect(audit.allSatisfy { $0.rollout == started.id && $0.candidate == candidate.id && $0.live == live.id })
    // A new rollout can start once the last one ended (back to the old code, say).
    let again = try await second.startRollout(name: name, RolloutRequest(candidate: live.id, basisPoints: 100), actor: "ops")
    #expect(again.id != started.id && again.revision == 4)
}

@Suite struct RolloutStoreTests {
    @Test func sqliteComparesAndSetsAndKeepsTheAuditList() async throws {
        let root = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let store = try SQLiteStore(path: root + "/.sluice/registry.sqlite")
        #expect(try await store.rollouts().isEmpty, "reads before the file exists answer empty")
        let junk = try await exerciseRolloutStorage(store)
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let found = try await Catalog(store: store, folder: registry, liveTTL: .zero).activeRollouts()
        #expect(found.active.isEmpty && found.unreadable == [junk, junk + "-other"], "an unreadable document is named, not fatal")
        // The tables come with the migration: an existing file gets them when it is opened again.
        #expect(try await SQLiteStore(path: root + "/.sluice/registry.sqlite").audit("x").isEmpty)
    }

    @Test func aRolloutsLifecycleIsSharedThroughTheStore() async throws {
        let root = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let path = root + "/store.sqlite"
        let first = Catalog(store: try SQLiteStore(path: path), folder: registry, liveTTL: .zero)
        _ = try await first.createTransformation(name: "seed", language: "javascript", description: nil)
        let second = Catalog(store: try SQLiteStore(path: path), folder: registry, liveTTL: .zero)
        try await exerciseRolloutLifecycle(first, second)
    }

    @Test func aFolderTransformationIsRolledOutInTheFolder() async throws {
        let root = try TemporaryFolder.create(["t/a/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let catalog = Catalog(store: try SQLiteStore(path: root + "/store.sqlite"), folder: registry, liveTTL: .zero)
        await #expect(throws: Catalog.Failure.conflict("a is managed in the transformations folder; roll it out there")) {
            try await catalog.startRollout(name: "a", RolloutRequest(candidate: "sv1", basisPoints: 100), actor: "ops")
        }
    }

    @Test func theRolloutIsCachedLikeTheLivePointer() async throws {
        let root = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let store = try SQLiteStore(path: root + "/store.sqlite")
        let catalog = Catalog(store: store, folder: registry, liveTTL: .seconds(60))
        #expect(catalog.cachedRollout(name: "x") == nil, "never read: ask the store")
        #expect(try await catalog.rollout(name: "x") == nil)
        #expect(catalog.cachedRollout(name: "x") == .some(nil), "read: none, for a while")
        _ = try await store.replaceRollout("x", document: Catalog.encode(Rollout(
            id: "ro-1", name: "x", live: "sv1", candidate: "sv2", basisPoints: 100, rollback: .init(), steps: [], stepsTaken: 0, state: .active,
            startedAt: "2026-01-01T00:00:00.000Z", startedBy: "ops")), expectedRevision: 0, auditEntry: Data("{}".utf8))
        #expect(try await catalog.rollout(name: "x") == nil, "within the time to live, the cached answer")
        #expect(try await catalog.storedRollout(name: "x")?.id == "ro-1")
        #expect(try await catalog.rollout(name: "x")?.revision == 1)
    }
}

extension RolloutStoreTests {
    @Test func aStoreOutageCostsTheRequestPathOneWaitPerIntervalAndKeepsTheLastRollout() async throws {
        let root = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let broken = Catalog(store: FailingStore(), folder: registry, liveTTL: .seconds(60))
        #expect(await onAThread { broken.rolloutForRequest(name: "x") } == nil)
        #expect(broken.cachedRollout(name: "x") == .some(nil), "the failure is remembered for the interval")
        // A rollout read before the outage stays in force through it.
        let store = OutageStore(try SQLiteStore(path: root + "/store.sqlite"))
        let rollout = Rollout(id: "ro-1", name: "y", live: "sv1", candidate: "sv2", basisPoints: 100, rollback: .init(), steps: [], stepsTaken: 0,
                              state: .active, startedAt: "2026-01-01T00:00:00.000Z", startedBy: "ops")
        #expect(try await store.replaceRollout("y", document: Catalog.encode(rollout), expectedRevision: 0, auditEntry: Data("{}".utf8)))
        let catalog = Catalog(store: store, folder: registry, liveTTL: .zero)
        #expect(await onAThread { catalog.rolloutForRequest(name: "y") }?.id == "ro-1")
        store.down.withLock { $0 = true }
        await #expect(throws: Catalog.Failure.self) { try await catalog.storedRollout(name: "y") }
        #expect(await onAThread { catalog.rolloutForRequest(name: "y") }?.id == "ro-1")
    }
}

/// A store whose rollout reads fail while `down` (the rest is SQLite's).
final class OutageStore: VersionStore, Sendable {
    let base: SQLiteStore
    let down = Mutex(false)
    init(_ base: SQLiteStore) { self.base = base }
    var location: String { "outage:" }
    func check() throws { if down.withLock({ $0 }) { throw StoreError("the store is down") } }
    func create(_ item: StoredItem) async throws -> Bool { try await base.create(item) }
    func item(_ kind: ItemKind, _ name: String) async throws -> StoredItem? { try await base.item(kind, name) }
    func items(_ kind: ItemKind) async throws -> [StoredItem] { try await base.items(kind) }
    func addVersion(_ kind: ItemKind, name: String, id: String, document: Data) async throws -> Bool { try await base.addVersion(kind, name: name, id: id, document: document) }
    func versions(_ kind: ItemKind, name: String) async throws -> [StoredVersionSummary] { try await base.versions(kind, name: name) }
    func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)? { try await base.document(kind, id: id) }
    func setLive(_ kind: ItemKind, name: String, id: String) async throws { try await base.setLive(kind, name: name, id: id) }
    func rollout(_ name: String) async throws -> StoredRollout? { try check(); return try await base.rollout(name) }
    func rollouts() async throws -> [String: StoredRollout] { try check(); return try await base.rollouts() }
    func replaceRollout(_ name: String, document: Data, expectedRevision: Int, auditEntry: Data) async throws -> Bool {
        try await base.replaceRollout(name, document: document, expectedRevision: expectedRevision, auditEntry: auditEntry)
    }
    func audit(_ name: String) async throws -> [Data] { try await base.audit(name) }
    func putRolloutCounts(_ rolloutID: String, replica: String, document: Data) async throws { try await base.putRolloutCounts(rolloutID, replica: replica, document: document) }
    func rolloutCounts(_ rolloutID: String) async throws -> [String: Data] { try await base.rolloutCounts(rolloutID) }
}

@Suite struct RolloutRequestTests {
    func parse(_ json: String) throws -> RolloutRequest {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        return try RolloutRequest(json: object)
    }

    func problem(_ json: String) -> String? {
        do { _ = try parse(json) } catch let failure as Catalog.Failure { return failure.description } catch { return "\(error)" }
        return nil
    }

    @Test func aFullRequestIsRead() throws {
        let request = try parse("""
            {"candidate": "sv1", "percent": 12.5, "rollback": {"maxErrorRateIncrease": 0.05, "minEvents": 100},
             "steps": [{"percent": 25, "after": "10m"}, {"percent": 100, "after": "1.5h"}]}
            """)
        #expect(request == RolloutRequest(candidate: "sv1", basisPoints: 1_250,
                                          rollback: .init(maxErrorRateIncrease: 0.05, maxLimitHitRateIncrease: 0.01, minEvents: 100),
                                          steps: [.init(basisPoints: 2_500, after: "10m", afterSeconds: 600), .init(basisPoints: 10_000, after: "1.5h", afterSeconds: 5_400)]))
        #expect(try parse(#"{"candidate":"sv1","percent":10}"#).rollback == .init(), "defaults")
    }

    @Test(arguments: [
        (#"{"percent": 10}"#, "candidate is required: the id of one of the transformation's versions"),
        (#"{"candidate": "sv1"}"#, "percent is required: the share of events that run the candidate, more than 0 and at most 100"),
        (#"{"candidate": "sv1", "percent": 0}"#, "percent must be a number more than 0 and at most 100 (got 0)"),
        (#"{"candidate": "sv1", "percent": 150}"#, "percent must be a number more than 0 and at most 100 (got 150)"),
        (#"{"candidate": "sv1", "percent": "10"}"#, #"percent must be a number more than 0 and at most 100 (got "10")"#),
        (#"{"candidate": "sv1", "percent": true}"#, "percent must be a number more than 0 and at most 100 (got true)"),
        (#"{"candidate": "sv1", "percent": 10, "sample": 1}"#, "sample is not a rollout field (use candidate, percent, rollback, steps)"),
        (#"{"candidate": "sv1", "percent": 10, "rollback": 3}"#, "rollback must be an object {maxErrorRateIncrease, maxLimitHitRateIncrease, minEvents}"),
        (#"{"candidate": "sv1", "percent": 10, "rollback": {"maxErrorRateIncrease": 2}}"#,
         "rollback.maxErrorRateIncrease must be a fraction from 0 to 1, such as 0.02 for two percentage points (got 2)"),
        (#"{"candidate": "sv1", "percent": 10, "rollback": {"minEvents": 0.5}}"#, "rollback.minEvents must be a whole number ≥ 1 (got 0.5)"),
        (#"{"candidate": "sv1", "percent": 10, "rollback": {"minEvent": 5}}"#,
         "rollback.minEvent is not a field (use maxErrorRateIncrease, maxLimitHitRateIncrease, minEvents)"),
        (#"{"candidate": "sv1", "percent": 10, "steps": {}}"#, "steps must be an array of {percent, after}"),
        (#"{"candidate": "sv1", "percent": 10, "steps": [{"percent": 5, "after": "1m"}]}"#, "steps[0].percent must be more than percent (10)"),
        (#"{"candidate": "sv1", "percent": 10, "steps": [{"percent": 50, "after": "1m"}, {"percent": 40, "after": "2m"}]}"#,
         "steps[1].percent must be more than steps[0].percent (50)"),
        (#"{"candidate": "sv1", "percent": 10, "steps": [{"percent": 50, "after": "soon"}]}"#,
         #"steps[0].after must be a duration such as "90s", "10m" or "1h" (got "soon")"#),
        (#"{"candidate": "sv1", "percent": 10, "steps": [{"percent": 50}]}"#, "steps[0].after must be a duration such as \"90s\", \"10m\" or \"1h\" (got nothing)"),
        (#"{"candidate": "sv1", "percent": 10, "steps": [{"percent": 50, "after": "10m"}, {"percent": 60, "after": "5m"}]}"#,
         "steps[1].after must be later than steps[0].after"),
        (#"{"candidate": "sv1", "percent": 10, "steps": [{"percent": 50, "after": "1m", "at": 1}]}"#, "steps[0].at is not a field (use percent, after)"),
    ])
    func aWrongFieldIsNamed(json: String, message: String) {
        #expect(problem(json) == message)
    }

    @Test func durations() {
        #expect(RolloutRequest.seconds("500ms") == 0.5)
        #expect(RolloutRequest.seconds("90s") == 90)
        #expect(RolloutRequest.seconds("10m") == 600)
        #expect(RolloutRequest.seconds("2h") == 7_200)
        #expect(RolloutRequest.seconds("1d") == 86_400)
        for bad in ["", "m", "10", "-1m", "1e3s", "10 m", "ten minutes"] { #expect(RolloutRequest.seconds(bad) == nil, "\(bad)") }
    }

    @Test func theRollbackVerdictComparesRatesOnceThereAreEnoughEvents() {
        let policy = Rollout.RollbackPolicy(maxErrorRateIncrease: 0.02, maxLimitHitRateIncrease: 0.01, minEvents: 100)
        let live = RolloutCounts(version: "sv1", events: 1_000, errors: 10, limitHits: 0)
        #expect(policy.rollbackReason(live: live, candidate: RolloutCounts(version: "sv2", events: 99, errors: 99)) == nil, "too few events yet")
        #expect(policy.rollbackReason(live: live, candidate: RolloutCounts(version: "sv2", events: 100, errors: 3)) == nil, "0.03 - 0.01 is not more than 0.02")
        #expect(policy.rollbackReason(live: live, candidate: RolloutCounts(version: "sv2", events: 100, errors: 4))
            == "candidate error rate 0.0400 exceeds the live version's 0.0100 by more than 0.0200 (after 100 candidate events)")
        #expect(policy.rollbackReason(live: live, candidate: RolloutCounts(version: "sv2", events: 200, limitHits: 3))
            == "candidate limit-hit rate 0.0150 exceeds the live version's 0.0000 by more than 0.0100 (after 200 candidate events)")
    }
}

@Suite(.enabled(if: postgresTestURL != nil || ProcessInfo.processInfo.environment["CI"] != nil))
struct PostgresRolloutTests {
    func store() async throws -> PostgresStore {
        let url = try #require(postgresTestURL, "CI must provide SLUICE_TEST_POSTGRES_URL (scripts/start-test-postgres.sh)")
        return try await PostgresStore(url: url, timeout: .seconds(60))
    }

    @Test func postgresComparesAndSetsAndKeepsTheAuditList() async throws {
        try await exerciseRolloutStorage(try await store())
    }

    @Test func twoReplicasShareOneRollout() async throws {
        let folder = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let registry = try Registry(transformationsRoot: folder + "/t", librariesRoot: folder + "/lib", languages: Engines.languages)
        try await exerciseRolloutLifecycle(Catalog(store: try await store(), folder: registry, liveTTL: .zero),
                                           Catalog(store: try await store(), folder: registry, liveTTL: .zero))
    }
}
