import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceStore
import SluiceTestSupport
import Testing

/// Replicas that agree at once: two catalogs over one PostgreSQL store (two stores, two pools,
/// two listening connections, as two processes have), each following the store. Cached live
/// pointers are trusted for an hour, so only a notification can bring a change within the test's
/// deadlines.
@Suite(.enabled(if: postgresTestURL != nil || ProcessInfo.processInfo.environment["CI"] != nil))
struct StoreFollowingTests {
    static let code = "export function transformEvent(e) { e.n = 1; return e; }"
    /// How long a change may take to reach the other replica here: an upper bound that catches a
    /// hang, not a latency check. Cached pointers are trusted for an hour, so anything within this
    /// proves the notification brought it; how fast it comes (milliseconds) is the benchmark's to
    /// measure (scripts/bench-propagation.py). Inside the full suite an `await` can resume seconds
    /// late: with every test started at once, a 100 ms sleep was measured resuming 18–55 s late,
    /// which failed 0.5 s, 5 s and 15 s bounds here; the test process now runs at most six tests at
    /// once (Tests/CTestRunnerSettings), where the same probe's worst lag was ~8 s.
    static let heard: Duration = .seconds(30)

    struct Replicas {
        let first: Catalog
        let second: Catalog
        let folder: String

        func stop() {
            first.stopFollowing()
            second.stopFollowing()
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    func replicas() async throws -> Replicas {
        let url = try #require(postgresTestURL, "CI must provide SLUICE_TEST_POSTGRES_URL (scripts/start-test-postgres.sh)")
        let folder = try TemporaryFolder.create(["t/.keep": ""])
        let registry = try Registry(transformationsRoot: folder + "/t", librariesRoot: folder + "/lib", languages: Engines.languages)
        let first = Catalog(store: try await PostgresStore(url: url, timeout: .seconds(60)), folder: registry, liveTTL: .seconds(3600))
        let second = Catalog(store: try await PostgresStore(url: url, timeout: .seconds(60)), folder: registry, liveTTL: .seconds(3600))
        await first.startFollowing()
        await second.startFollowing()
        try await Self.waitUntil("both replicas listen", within: .seconds(30)) {
            first.storeStatus.state == .listening && second.storeStatus.state == .listening
        }
        return Replicas(first: first, second: second, folder: folder)
    }

    /// Waits for `condition`, checking every millisecond; returns how long it took.
    @discardableResult
    static func waitUntil(_ what: String, within limit: Duration, _ condition: () async throws -> Bool) async throws -> Duration {
        let start = ContinuousClock.now
        while try await !condition() {
            if ContinuousClock.now - start > limit { throw Timeout(what: what, limit: limit) }
            try await Task.sleep(for: .milliseconds(1))
        }
        return ContinuousClock.now - start
    }

    struct Timeout: Error, CustomStringConvertible {
        let what: String
        let limit: Duration
        var description: String { "\(what): not within \(limit)" }
    }

    @Test func publishAndRollbackReachTheOtherReplicaByNotification() async throws {
        let replicas = try await replicas()
        defer { replicas.stop() }
        let (first, second) = (replicas.first, replicas.second)
        let name = "follow-\(UUID().uuidString.prefix(8))"
        _ = try await first.createTransformation(name: name, language: "javascript", description: nil)
        let v1 = try await first.publishCode(name: name, code: Self.code).version
        // The second replica reads the pointer once (it is cached for an hour from now on, so
        // `liveVersion` answers a new one only when a change replaced it).
        #expect(try await second.liveVersion(name: name)?.id == v1.id)
        try await Self.waitUntil("the digests agree", within: Self.heard) { first.storeStatus.liveDigest == second.storeStatus.liveDigest }
        let before = second.storeStatus
        let v2 = try await first.publishCode(name: name, code: "export function transformEvent(e) { e.n = 2; return e; }").version
        // Heard by notification (see `heard`); the benchmark, scripts/bench-propagation.py, measures how fast.
        try await Self.waitUntil("the publish reaches the second replica", within: Self.heard) {
            try await second.liveVersion(name: name)?.id == v2.id
        }
        #expect(try await second.liveVersion(name: name)?.id == v2.id)
        let after = second.storeStatus
        #expect(after.notifications > before.notifications)
        #expect(after.liveDigest != before.liveDigest)
        try await Self.waitUntil("the digests agree", within: Self.heard) { first.storeStatus.liveDigest == second.storeStatus.liveDigest }

        // Rolling back is a publish of an older version: heard the same way.
        try await first.publish(name: name, versionID: v1.id)
        try await Self.waitUntil("the rollback reaches the second replica", within: Self.heard) { try await second.liveVersion(name: name)?.id == v1.id }
        #expect(try await second.liveVersion(name: name)?.id == v1.id)
        #expect(second.storeStatus.liveDigest != after.liveDigest)
        // Either replica may publish.
        try await second.publish(name: name, versionID: v2.id)
        try await Self.waitUntil("the second replica's publish reaches the first", within: Self.heard) { try await first.liveVersion(name: name)?.id == v2.id }
    }

    @Test func aLibraryPublishChangesTheOtherReplicasLiveSet() async throws {
        let replicas = try await replicas()
        defer { replicas.stop() }
        let (first, second) = (replicas.first, replicas.second)
        let name = "followlib\(UUID().uuidString.prefix(8).lowercased())"
        _ = try await first.createLibrary(name: name, language: "javascript", description: nil)
        let before = second.storeStatus
        let published = try await first.publishLibraryCode(name: name, code: "export const x = 1;")
        try await Self.waitUntil("the library reaches the second replica", within: Self.heard) {
            second.heardLiveVersion(.library, name) == published.id
        }
        let after = second.storeStatus
        #expect(after.notifications > before.notifications)
        #expect(after.liveLibraries >= before.liveLibraries + 1)
        try await Self.waitUntil("the digests agree", within: Self.heard) { first.storeStatus.liveDigest == second.storeStatus.liveDigest }
        #expect(second.storeStatus.liveDigest != before.liveDigest)
    }

    /// The listening connection ended by the server: the replica polls, reconnects, reads what it
    /// missed meanwhile, and is pushed changes again.
    @Test func aKilledListenerReconnectsAndCatchesUp() async throws {
        let replicas = try await replicas()
        defer { replicas.stop() }
        let (first, second) = (replicas.first, replicas.second)
        let name = "killed-\(UUID().uuidString.prefix(8))"
        _ = try await first.createTransformation(name: name, language: "javascript", description: nil)
        let v1 = try await first.publishCode(name: name, code: Self.code).version
        #expect(try await second.liveVersion(name: name)?.id == v1.id)
        let listener = try #require(second.store as? PostgresStore).listenerApplicationName
        let notificationsBefore = second.storeStatus.notifications

        #expect(try Self.terminateBackends(applicationName: listener) == 1)
        // Noticed when the notification stream ends, else by the listener check: a `SELECT 1` every
        // 5 s, bounded by the store's timeout (60 s here), then heard as above.
        try await Self.waitUntil("the second replica notices", within: .seconds(5) + .seconds(60) + Self.heard) { second.storeStatus.state != .listening }
        // Published while the second replica does not listen: found when it reads the live set again.
        let v2 = try await first.publishCode(name: name, code: "export function transformEvent(e) { e.n = 2; return e; }").version
        try await Self.waitUntil("the missed publish is caught up", within: Self.heard) { try await second.liveVersion(name: name)?.id == v2.id }
        try await Self.waitUntil("the second replica listens again", within: Self.heard) { second.storeStatus.state == .listening }

        let v3 = try await first.publishCode(name: name, code: "export function transformEvent(e) { e.n = 3; return e; }").version
        try await Self.waitUntil("the next publish is heard", within: Self.heard) { try await second.liveVersion(name: name)?.id == v3.id }
        #expect(second.storeStatus.notifications > notificationsBefore)
        try await Self.waitUntil("the digests agree", within: Self.heard) { first.storeStatus.liveDigest == second.storeStatus.liveDigest }
    }

    /// Ends the server's backends whose `application_name` is `name` (with `psql`, as an
    /// operator would); returns how many it ended.
    static func terminateBackends(applicationName name: String) throws -> Int {
        let url = try #require(postgresTestURL)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", url, "-tAc", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '\(name)'"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "psql: \(text)")
        return Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
    }
}

/// A SQLite store has one replica: nothing to listen to; its state and digest still show.
@Suite struct SQLiteStoreStatusTests {
    @Test func theStatusFollowsTheStoresCreationAndPublishes() async throws {
        let root = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let catalog = Catalog(store: try SQLiteStore(path: root + "/.sluice/registry.sqlite"), folder: registry)
        await catalog.startFollowing()
        let empty = catalog.storeStatus
        #expect(empty.kind == "sqlite" && empty.state == .notCreated && empty.lastChange == nil)
        #expect(empty.liveDigest == String(sha256Hex("".utf8).prefix(16)))
        _ = try await catalog.createTransformation(name: "a", language: "javascript", description: nil)
        let version = try await catalog.publishCode(name: "a", code: StoreFollowingTests.code).version
        let published = catalog.storeStatus
        #expect(published.state == .local && published.liveTransformations == 1 && published.lastChange != nil)
        #expect(published.liveDigest == String(sha256Hex("transformation\ta\t\(version.id)\n".utf8).prefix(16)))
        // Another process opening the same file reads the same live set.
        let reopened = Catalog(store: try SQLiteStore(path: root + "/.sluice/registry.sqlite"), folder: registry)
        await reopened.startFollowing()
        #expect(reopened.storeStatus.liveDigest == published.liveDigest)
    }
}

/// The fallback, without a PostgreSQL server: a store whose change feed can be refused and whose
/// reads can fail, over a real SQLite file that a second catalog (another replica) publishes to.
@Suite struct FeedFallbackTests {
    final class UnreliableFeed: LiveChangeFeed, @unchecked Sendable {
        // @unchecked: the switches are guarded by `lock`.
        let base: SQLiteStore
        private let lock = NSLock()
        private var feedUp = false
        private var reachable = true
        init(_ base: SQLiteStore) { self.base = base }

        func set(feedUp: Bool? = nil, reachable: Bool? = nil) {
            lock.withLock {
                if let feedUp { self.feedUp = feedUp }
                if let reachable { self.reachable = reachable }
            }
        }

        private func check() throws {
            guard lock.withLock({ reachable }) else { throw StoreError("the store does not answer") }
        }

        func followLiveChanges(listening: @escaping @Sendable () async -> Void, change: @escaping @Sendable (LiveChange) async -> Void) async throws {
            guard lock.withLock({ feedUp }) else { throw StoreError("the listening connection was refused") }
            await listening()
            while lock.withLock({ feedUp }) { try await Task.sleep(for: .milliseconds(10)) }
            throw StoreError("the listening connection was closed")
        }

        func create(_ item: StoredItem) async throws -> Bool { try check(); return try await base.create(item) }
        func item(_ kind: ItemKind, _ name: String) async throws -> StoredItem? { try check(); return try await base.item(kind, name) }
        func items(_ kind: ItemKind) async throws -> [StoredItem] { try check(); return try await base.items(kind) }
        func addVersion(_ kind: ItemKind, name: String, id: String, document: Data) async throws -> Bool {
            try check()
            return try await base.addVersion(kind, name: name, id: id, document: document)
        }
        func versions(_ kind: ItemKind, name: String) async throws -> [StoredVersionSummary] { try check(); return try await base.versions(kind, name: name) }
        func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)? { try check(); return try await base.document(kind, id: id) }
        func setLive(_ kind: ItemKind, name: String, id: String) async throws { try check(); try await base.setLive(kind, name: name, id: id) }
        func rollout(_ name: String) async throws -> StoredRollout? { try check(); return try await base.rollout(name) }
        func rollouts() async throws -> [String: StoredRollout] { try check(); return try await base.rollouts() }
        func replaceRollout(_ name: String, document: Data, expectedRevision: Int, auditEntry: Data) async throws -> Bool {
            try check()
            return try await base.replaceRollout(name, document: document, expectedRevision: expectedRevision, auditEntry: auditEntry)
        }
        func audit(_ name: String) async throws -> [Data] { try check(); return try await base.audit(name) }
        func putRolloutCounts(_ rolloutID: String, replica: String, document: Data) async throws {
            try check()
            try await base.putRolloutCounts(rolloutID, replica: replica, document: document)
        }
        func rolloutCounts(_ rolloutID: String) async throws -> [String: Data] { try check(); return try await base.rolloutCounts(rolloutID) }
        var location: String { base.location }
    }

    final class Events: @unchecked Sendable {
        // @unchecked: `list` is guarded by `lock`.
        private let lock = NSLock()
        private var list: [Catalog.FollowEvent] = []
        func add(_ event: Catalog.FollowEvent) { lock.withLock { list.append(event) } }
        var states: [Catalog.StoreStatus.State] {
            lock.withLock { list.compactMap { if case .state(let state, _) = $0 { state } else { nil } } }
        }
        var polledChanges: Int { lock.withLock { list.reduce(0) { if case .polled(let changes) = $1 { $0 + changes } else { $0 } } } }
    }

    @Test func withoutTheFeedTheLiveSetIsPolledAndAnUnreachableStoreShows() async throws {
        let root = try TemporaryFolder.create(["t/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let other = Catalog(store: try SQLiteStore(path: root + "/registry.sqlite"), folder: registry)
        // Creates the file, so both stores read it.
        _ = try await other.createTransformation(name: "a", language: "javascript", description: nil)
        let feed = UnreliableFeed(try SQLiteStore(path: root + "/registry.sqlite"))
        let catalog = Catalog(store: feed, folder: registry, liveTTL: .milliseconds(50))
        let events = Events()
        await catalog.startFollowing(observer: events.add)
        defer { catalog.stopFollowing() }
        #expect(catalog.storeStatus.state == .polling)

        let version = try await other.publishCode(name: "a", code: StoreFollowingTests.code).version
        try await StoreFollowingTests.waitUntil("the poll finds the other replica's publish", within: StoreFollowingTests.heard) {
            catalog.heardLiveVersion(.transformation, "a") == version.id
        }
        #expect(catalog.storeStatus.liveDigest == other.storeStatus.liveDigest)
        #expect(events.polledChanges >= 1 && catalog.storeStatus.notifications == 0)

        feed.set(reachable: false)
        try await StoreFollowingTests.waitUntil("the failing store shows", within: StoreFollowingTests.heard) { catalog.storeStatus.state == .unreachable }
        feed.set(reachable: true)
        try await StoreFollowingTests.waitUntil("it answers again", within: StoreFollowingTests.heard) { catalog.storeStatus.state == .polling }
        feed.set(feedUp: true)
        try await StoreFollowingTests.waitUntil("the feed is used once it connects", within: StoreFollowingTests.heard) { catalog.storeStatus.state == .listening }
        feed.set(feedUp: false)
        try await StoreFollowingTests.waitUntil("a lost feed falls back to polling", within: StoreFollowingTests.heard) { catalog.storeStatus.state == .polling }
        #expect(Array(events.states.prefix(5)) == [.polling, .unreachable, .polling, .listening, .polling])
    }
}
