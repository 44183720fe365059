import Foundation
import HTTPTypes
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceServer
import SluiceStore
import SluiceTestSupport
import Testing

/// A wall clock the test moves by hand.
final class TestClock: @unchecked Sendable {
    // @unchecked: `date` is guarded by `lock`.
    private let lock = NSLock()
    private var date = Date(timeIntervalSince1970: 1_767_225_600)
    var now: Date { lock.withLock { date } }
    func advance(_ seconds: TimeInterval) { lock.withLock { date += seconds } }
}

/// An API transformation with a live and a candidate version, a controller over its catalog and
/// a `/customTransform` handler that applies its rollouts (running the code for real).
struct RolloutFixture {
    static let liveCode = """
        export function transformEvent(event) { event.ran = "live"; return event; }
        """
    static let candidateCode = """
        export function transformEvent(event) {
          if (event.failOnCandidate) throw new Error("candidate fails " + event.n);
          event.ran = "candidate";
          return event;
        }
        """
    let root: String
    let catalog: Catalog
    let clock = TestClock()
    let controller: RolloutController
    let handler: CustomTransformHandler
    let metrics = ServiceMetrics()
    let name = "canary"
    let live: String
    let candidate: String

    init(liveCode: String = Self.liveCode, candidateCode: String = Self.candidateCode) async throws {
        root = try TemporaryFolder.create(["t/.keep": ""])
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        catalog = Catalog(store: try SQLiteStore(path: root + "/store.sqlite"), folder: registry, liveTTL: .zero)
        let clock = self.clock
        controller = RolloutController(catalog: catalog, metrics: metrics, automaticActor: "sluice:test", now: { clock.now })
        var handler = CustomTransformHandler(executor: InProcessExecutor(runtime: Runtime(libraries: NoLibraries())),
                                             resolver: ServiceResolver(versions: catalog, limits: .defaults), metrics: metrics)
        handler.rollouts = controller
        self.handler = handler
        _ = try await catalog.createTransformation(name: name, language: "javascript", description: nil)
        candidate = try await catalog.publishCode(name: name, code: candidateCode).version.id
        live = try await catalog.publishCode(name: name, code: liveCode).version.id
    }

    func remove() { try? FileManager.default.removeItem(atPath: root) }

    func start(percent: Int, minEvents: Int = 500, steps: [Rollout.Step] = []) async throws -> Rollout {
        try await controller.start(name: name, RolloutRequest(candidate: candidate, basisPoints: percent * 100,
                                                              rollback: .init(minEvents: minEvents), steps: steps), actor: "ops")
    }

    /// One request item for user `user` (the transformation named by name, as rudder-server's
    /// config names an API transformation).
    static func item(user: String, n: Int, extra: String = "") -> String {
        #"{"message":{"userId":"\#(user)","messageId":"m\#(n)","n":\#(n)\#(extra)},"metadata":{"messageId":"m\#(n)","sourceId":"s","destinationId":"d","jobId":\#(n)},"destination":{"Transformations":[{"VersionID":"canary"}]}}"#
    }

    /// Sends `items` as one request on a plain thread (the handler waits for the store, as the
    /// engine workers do), and decodes the response's items.
    func send(_ items: [String], filterCode: Bool = false, to other: CustomTransformHandler? = nil) async throws -> [[String: Any]] {
        let handler = other ?? self.handler
        let body = Array(("[" + items.joined(separator: ",") + "]").utf8)
        let response = await onThread { handler.handle(body: body, filterCode: filterCode) }
        #expect(response.status == 200, "\(String(decoding: response.body, as: UTF8.self))")
        return try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]])
    }

    /// Which version ran each output item (`live`, `candidate`), by messageId.
    static func ran(_ items: [[String: Any]]) -> [String: String] {
        var ran: [String: String] = [:]
        for item in items {
            guard let id = (item["metadata"] as? [String: Any])?["messageId"] as? String else { continue }
            ran[id] = (item["output"] as? [String: Any])?["ran"] as? String ?? "error"
        }
        return ran
    }
}

func onThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in startThread { continuation.resume(returning: body()) } }
}

/// Polls `condition` for up to `seconds`.
func eventually(_ seconds: Double = 10, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

@Suite struct RolloutTests {
    @Test func aMixedBatchAnswersOneItemPerEventInInputOrderWithItsMetadata() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        let rollout = try await fixture.start(percent: 30)
        let users = (0..<200).map { "user-\($0 % 150)" }   // some users twice in the batch
        let items = try await fixture.send(users.enumerated().map { RolloutFixture.item(user: $1, n: $0) })
        #expect(items.count == 200)
        #expect(items.map { ($0["metadata"] as? [String: Any])?["messageId"] as? String } == (0..<200).map { "m\($0)" })
        for (index, item) in items.enumerated() {
            #expect(item["statusCode"] as? Int == 200)
            let metadata = try #require(item["metadata"] as? [String: Any])
            #expect(metadata["sourceId"] as? String == "s" && metadata["destinationId"] as? String == "d" && metadata["jobId"] as? Int == index)
            #expect(metadata.count == 4, "the input's metadata, unchanged")
            let envelope = Array(#"{"message":{"userId":"\#(users[index])"}}"#.utf8)
            let expected = RolloutSplit.runsCandidate(envelope, candidateBasisPoints: 3_000, salt: rollout.id) ? "candidate" : "live"
            #expect((item["output"] as? [String: Any])?["ran"] as? String == expected, "event \(index) of \(users[index])")
        }
        let ran = RolloutFixture.ran(items)
        let candidates = ran.values.filter { $0 == "candidate" }.count
        #expect(candidates > 20 && candidates < 110, "about 30 % of 200: \(candidates)")
        // Sticky: the same users in another batch, another order, go the same way.
        let again = try await fixture.send(users.enumerated().reversed().map { RolloutFixture.item(user: $1, n: $0) })
        #expect(RolloutFixture.ran(again) == ran)
        let counts = fixture.controller.counts(of: rollout)
        #expect(counts["candidate"]?.events == candidates * 2 && counts["live"]?.events == (200 - candidates) * 2)
        let exposition = String(decoding: fixture.metrics.exposition(), as: UTF8.self)
        #expect(exposition.contains(#"sluice_rollout_events_total{transformation="canary",version="\#(fixture.candidate)",role="candidate"} \#(candidates * 2)"#))
    }

    @Test func dropsAndFailuresKeepTheirPlaceAndFilterCodeItemsComeFirst() async throws {
        let fixture = try await RolloutFixture(liveCode: """
            export function transformEvent(event) { if (event.n % 3 === 0) return null; event.ran = "live"; return event; }
            """)
        defer { fixture.remove() }
        _ = try await fixture.start(percent: 50)
        let items = try await fixture.send((0..<60).map { RolloutFixture.item(user: "u\($0)", n: $0, extra: $0 % 5 == 0 ? #","failOnCandidate":true"# : "") },
                                           filterCode: true)
        let dropped = items.prefix { $0["statusCode"] as? Int == 298 }
        #expect(dropped.allSatisfy { ($0["metadata"] as? [String: Any])?["messageIds"] is NSNull })
        let rest = items.dropFirst(dropped.count)
        #expect(rest.allSatisfy { $0["statusCode"] as? Int != 298 })
        // Every event exactly once, the rest in input order.
        let ids = items.compactMap { ($0["metadata"] as? [String: Any])?["messageId"] as? String }
        #expect(Set(ids).count == 60 && ids.count == 60)
        let restNumbers = rest.compactMap { (($0["metadata"] as? [String: Any])?["messageId"] as? String).flatMap { Int($0.dropFirst()) } }
        #expect(restNumbers == restNumbers.sorted())
        #expect(rest.contains { $0["statusCode"] as? Int == 400 && ($0["error"] as? String)?.contains("candidate fails") == true })
    }

    @Test func aTransformBatchFunctionRunsOncePerShare() async throws {
        let fixture = try await RolloutFixture(
            liveCode: "export function transformBatch(events) { return events.map(e => ({ ...e, ran: \"live\", share: events.length })); }",
            candidateCode: "export function transformBatch(events) { throw new Error(\"candidate batch fails\"); }")
        defer { fixture.remove() }
        let rollout = try await fixture.start(percent: 50)
        let items = try await fixture.send((0..<40).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        let candidates = (0..<40).filter {
            RolloutSplit.runsCandidate(Array(#"{"userId":"u\#($0)"}"#.utf8), candidateBasisPoints: 5_000, salt: rollout.id)
        }
        #expect(!candidates.isEmpty && candidates.count < 40)
        let outputs = items.filter { $0["statusCode"] as? Int == 200 }
        #expect(outputs.count == 40 - candidates.count)
        #expect(outputs.allSatisfy { ($0["output"] as? [String: Any])?["share"] as? Int == 40 - candidates.count }, "the live share is one batch")
        // The candidate's failed call is one item, whose metadata lists exactly its share's events.
        let failures = items.filter { $0["statusCode"] as? Int == 400 }
        #expect(failures.count == 1)
        #expect((failures.first?["metadata"] as? [String: Any])?["messageIds"] as? [String] == candidates.map { "m\($0)" })
        #expect(Set(outputs.compactMap { ($0["metadata"] as? [String: Any])?["messageId"] as? String })
            == Set((0..<40).filter { !candidates.contains($0) }.map { "m\($0)" }))
    }

    @Test func aFailingCandidateIsRolledBackAfterMinEventsWithTheReasonInTheAuditList() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        let rollout = try await fixture.start(percent: 50, minEvents: 40)
        // Every fourth event throws on the candidate: a 25 % error rate against the live version's 0.
        var n = 0
        func batch() -> [String] {
            defer { n += 20 }
            return (n..<(n + 20)).map { RolloutFixture.item(user: "u\($0)", n: $0, extra: $0 % 4 == 0 ? #","failOnCandidate":true"# : "") }
        }
        _ = try await fixture.send(batch())
        #expect(try await fixture.catalog.storedRollout(name: fixture.name)?.isActive == true, "fewer than minEvents candidate events")
        while fixture.controller.counts(of: rollout)["candidate"]!.events < 40 { _ = try await fixture.send(batch()) }
        #expect(try await eventually { try await fixture.catalog.storedRollout(name: fixture.name)?.state == .rolledBack })
        let ended = try #require(try await fixture.catalog.storedRollout(name: fixture.name))
        #expect(ended.endedBy == "sluice:test")
        #expect(ended.reason?.hasPrefix("candidate error rate 0.") == true && ended.reason?.contains("exceeds the live version's 0.0000 by more than 0.0200") == true)
        let audit = try await fixture.catalog.audit(name: fixture.name)
        #expect(audit.map(\.action) == [.start, .rollback])
        #expect(audit.last?.reason == ended.reason && audit.last?.actor == "sluice:test")
        #expect((audit.last?.counts?["candidate"]?.errorRate ?? 0) > 0.1 && audit.last?.counts?["live"]?.errors == 0)
        #expect(try await fixture.catalog.liveVersion(name: fixture.name)?.id == fixture.live, "the live version stays")
        // Everything runs the live version again.
        let after = try await fixture.send((1000..<1040).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        #expect(Set(RolloutFixture.ran(after).values) == ["live"])
        #expect(String(decoding: fixture.metrics.exposition(), as: UTF8.self).contains(#"sluice_rollout_rollbacks_total{transformation="canary"} 1"#))
    }

    @Test func replicasShareTheirCountsAndTheSumDecidesTheRollback() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        let rollout = try await fixture.start(percent: 50, minEvents: 40)
        // Another replica: its own catalog over the same store, its own counts.
        let otherCatalog = Catalog(store: try SQLiteStore(path: fixture.root + "/store.sqlite"), folder: fixture.catalog.folder, liveTTL: .zero)
        let clock = fixture.clock
        let other = RolloutController(catalog: otherCatalog, automaticActor: "sluice:other", now: { clock.now })
        var otherHandler = CustomTransformHandler(executor: InProcessExecutor(runtime: Runtime(libraries: NoLibraries())),
                                                  resolver: ServiceResolver(versions: otherCatalog, limits: .defaults))
        otherHandler.rollouts = other
        // 25 candidate users for each replica, every fourth of whose events fails: neither
        // replica alone has minEvents candidate events, together they have 50.
        let candidateUsers = (0..<1_000).map { "u\($0)" }.filter {
            RolloutSplit.runsCandidate(Array(#"{"userId":"\#($0)"}"#.utf8), candidateBasisPoints: 5_000, salt: rollout.id)
        }
        func items(_ users: ArraySlice<String>) -> [String] {
            users.enumerated().map { RolloutFixture.item(user: $1, n: $0, extra: $0 % 4 == 0 ? #","failOnCandidate":true"# : "") }
        }
        _ = try await fixture.send(items(candidateUsers[0..<25]))
        _ = try await fixture.send(items(candidateUsers[25..<50]), to: otherHandler)
        #expect(fixture.controller.counts(of: rollout)["candidate"]?.events == 25 && other.counts(of: rollout)["candidate"]?.events == 25)
        await other.tick()
        #expect(try await fixture.catalog.storedRollout(name: fixture.name)?.isActive == true, "25 candidate events are fewer than minEvents")
        let api = RolloutAPI(controller: other, registry: otherCatalog.folder)
        let state = try #require(try JSONSerialization.jsonObject(with: Data(await api.get(name: fixture.name).body)) as? [String: Any])
        #expect((state["counts"] as? [String: [String: Any]])?["candidate"]?["events"] as? Int == 25, "only what has been published")
        await fixture.controller.tick()
        let ended = try #require(try await fixture.catalog.storedRollout(name: fixture.name))
        #expect(ended.state == .rolledBack && ended.endedBy == "sluice:test")
        #expect(ended.finalCounts?["candidate"]?.events == 50 && ended.finalCounts?["candidate"]?.errors == 14)
        #expect(ended.reason == "candidate error rate 0.2800 exceeds the live version's 0.0000 by more than 0.0200 (after 50 candidate events)")
    }

    @Test func promotingMakesTheCandidateLive() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        _ = try await fixture.start(percent: 10)
        let promoted = try #require(try await fixture.controller.promote(name: fixture.name, actor: "ops"))
        #expect(promoted.state == .promoted && promoted.percent == 100)
        #expect(try await fixture.catalog.liveVersion(name: fixture.name)?.id == fixture.candidate)
        let items = try await fixture.send((0..<30).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        #expect(Set(RolloutFixture.ran(items).values) == ["candidate"])
        #expect(try await fixture.controller.promote(name: fixture.name, actor: "ops") == nil, "nothing in progress any more")
        #expect(try await fixture.catalog.audit(name: fixture.name).map(\.action) == [.start, .promote])
    }

    @Test func abortingLeavesTheLiveVersion() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        _ = try await fixture.start(percent: 90)
        let during = try await fixture.send((0..<30).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        #expect(RolloutFixture.ran(during).values.contains("candidate"))
        let aborted = try #require(try await fixture.controller.abort(name: fixture.name, actor: "ops"))
        #expect(aborted.state == .aborted && aborted.endedBy == "ops")
        #expect(try await fixture.catalog.liveVersion(name: fixture.name)?.id == fixture.live)
        let after = try await fixture.send((0..<30).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        #expect(Set(RolloutFixture.ran(after).values) == ["live"])
        #expect(try await fixture.catalog.audit(name: fixture.name).map(\.action) == [.start, .abort])
    }

    @Test func stepsApplyOnTheirScheduleAndAStepTo100Promotes() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        let steps = [Rollout.Step(basisPoints: 5_000, after: "10m", afterSeconds: 600), Rollout.Step(basisPoints: 10_000, after: "30m", afterSeconds: 1_800)]
        _ = try await fixture.start(percent: 10, steps: steps)
        await fixture.controller.tick()
        #expect(try await fixture.catalog.storedRollout(name: fixture.name)?.percent == 10)
        fixture.clock.advance(600)
        await fixture.controller.tick()
        let stepped = try #require(try await fixture.catalog.storedRollout(name: fixture.name))
        #expect(stepped.percent == 50 && stepped.stepsTaken == 1 && stepped.nextStep?.percent == 100)
        fixture.clock.advance(1_199)
        await fixture.controller.tick()
        #expect(try await fixture.catalog.storedRollout(name: fixture.name)?.isActive == true)
        fixture.clock.advance(1)
        await fixture.controller.tick()
        #expect(try await fixture.catalog.storedRollout(name: fixture.name)?.state == .promoted)
        #expect(try await fixture.catalog.liveVersion(name: fixture.name)?.id == fixture.candidate)
        let audit = try await fixture.catalog.audit(name: fixture.name)
        #expect(audit.map(\.action) == [.start, .step, .promote])
        #expect(audit[1].fromPercent == 10 && audit[1].percent == 50 && audit[1].reason == "scheduled step: 50 % after 10m")
        #expect(audit[2].actor == "sluice:test" && audit[2].reason == "scheduled step: 100 % after 30m")
    }

    @Test func missedStepsAreAppliedAtOnceToTheLastDue() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        let steps = [Rollout.Step(basisPoints: 2_000, after: "1m", afterSeconds: 60), Rollout.Step(basisPoints: 4_000, after: "2m", afterSeconds: 120)]
        _ = try await fixture.start(percent: 10, steps: steps)
        fixture.clock.advance(180)
        await fixture.controller.tick()
        let rollout = try #require(try await fixture.catalog.storedRollout(name: fixture.name))
        #expect(rollout.percent == 40 && rollout.stepsTaken == 2 && rollout.isActive)
    }

    @Test func aPublishDuringARolloutSupersedesIt() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        _ = try await fixture.start(percent: 50)
        let other = try await fixture.catalog.publishCode(name: fixture.name, code: "export function transformEvent(e) { e.ran = \"other\"; return e; }").version
        // Until the tick, the rollout no longer applies: requests run the new live version.
        let items = try await fixture.send((0..<20).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        #expect(Set(RolloutFixture.ran(items).values) == ["other"])
        await fixture.controller.tick()
        let ended = try #require(try await fixture.catalog.storedRollout(name: fixture.name))
        #expect(ended.state == .superseded && ended.reason == "the live version changed to \(other.id) outside the rollout")
    }
}

@Suite struct RolloutAPITests {
    func json(_ response: WireResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any], "\(String(decoding: response.body, as: UTF8.self))")
    }

    @Test func startGetPromoteAbortAndTheAuditListOverTheAPI() async throws {
        let fixture = try await RolloutFixture()
        defer { fixture.remove() }
        let api = RolloutAPI(controller: fixture.controller, registry: fixture.catalog.folder)
        #expect(try json(await api.get(name: "canary"))["error"] as? String == "transformation canary has no rollout in progress")
        #expect(try json(await api.get(name: "nope"))["error"] as? String == "transformation nope not found")
        let bad = await api.start(name: "canary", body: Array(#"{"candidate":"\#(fixture.candidate)","percent":101}"#.utf8), actor: "ops")
        #expect(bad.status == 400)
        #expect(try json(bad)["error"] as? String == "percent must be a number more than 0 and at most 100 (got 101)")
        let unknown = await api.start(name: "canary", body: Array(#"{"candidate":"sv-missing","percent":10}"#.utf8), actor: "ops")
        #expect(unknown.status == 404)
        #expect(try json(unknown)["error"] as? String == "candidate: transformation canary has no version sv-missing")
        #expect(await api.start(name: "nope", body: Array(#"{"candidate":"sv1","percent":10}"#.utf8), actor: "ops").status == 404)
        #expect(await api.start(name: "canary", body: Array("[1]".utf8), actor: "ops").status == 400)

        let body = #"{"candidate":"\#(fixture.candidate)","percent":10,"rollback":{"minEvents":1000},"steps":[{"percent":25,"after":"10m"},{"percent":100,"after":"30m"}]}"#
        let started = await api.start(name: "canary", body: Array(body.utf8), actor: "alice")
        #expect(started.status == 201 && started.headers.contains { $0 == ("Location", "/v1/transformations/canary/rollout") })
        #expect(await api.start(name: "canary", body: Array(body.utf8), actor: "alice").status == 409)
        _ = try await fixture.send((0..<50).map { RolloutFixture.item(user: "u\($0)", n: $0) })
        let state = try json(await api.get(name: "canary"))
        #expect(state["state"] as? String == "active" && state["percent"] as? Double == 10 && state["startedBy"] as? String == "alice")
        #expect(state["live"] as? String == fixture.live && state["candidate"] as? String == fixture.candidate)
        let next = try #require(state["nextStep"] as? [String: Any])
        #expect(next["percent"] as? Double == 25 && next["after"] as? String == "10m" && next["dueAt"] as? String == "2026-01-01T00:10:00.000Z")
        let counts = try #require(state["counts"] as? [String: [String: Any]])
        #expect((counts["live"]?["events"] as? Int ?? 0) + (counts["candidate"]?["events"] as? Int ?? 0) == 50)
        #expect(counts["candidate"]?["errorRate"] as? Double == 0 && counts["live"]?["version"] as? String == fixture.live)
        #expect((state["rollback"] as? [String: Any])?["minEvents"] as? Int == 1000)

        let aborted = await api.abort(name: "canary", actor: "bob")
        #expect(aborted.status == 200)
        #expect(try json(aborted)["state"] as? String == "aborted")
        #expect(await api.abort(name: "canary", actor: "bob").status == 404)
        #expect(await api.promote(name: "canary", actor: "bob").status == 404)
        _ = await api.start(name: "canary", body: Array(#"{"candidate":"\#(fixture.candidate)","percent":5}"#.utf8), actor: "carol")
        let promoted = try json(await api.promote(name: "canary", actor: "dave"))
        #expect(promoted["state"] as? String == "promoted" && promoted["endedBy"] as? String == "dave")

        let audit = try json(await api.audit(name: "canary"))
        let entries = try #require(audit["entries"] as? [[String: Any]])
        #expect(entries.map { $0["action"] as? String } == ["start", "abort", "start", "promote"])
        #expect(entries.map { $0["actor"] as? String } == ["alice", "bob", "carol", "dave"])
        #expect(entries.allSatisfy { ($0["at"] as? String)?.hasPrefix("2026-01-01T00:00:00") == true })
        #expect(await api.audit(name: "nope").status == 404)
    }

    @Test func theActorIsTheHeaderElseTheClientsAddress() {
        #expect(RolloutAPI.actor(header: " alice ", peer: "10.0.0.1") == "alice")
        #expect(RolloutAPI.actor(header: "", peer: "10.0.0.1") == "10.0.0.1")
        #expect(RolloutAPI.actor(header: nil, peer: nil) == "unknown")
        #expect(RolloutAPI.actor(header: String(repeating: "x", count: 300), peer: nil).count == 200)
    }
}

@Suite struct RolloutActorTests {
    @Test func theGuardTellsTheRoutesTheClientsAddressAndNoClientCanSetIt() throws {
        let fixture = ConnectionGuardTests.Fixture()
        let (channel, _) = try fixture.connection()
        var request = HTTPRequest(method: .delete, scheme: nil, authority: "localhost", path: "/v1/transformations/a/rollout")
        request.headerFields[ConnectionGuard.peerHeader] = "forged"
        try channel.writeInbound(RequestPart.head(request))
        guard case .head(let head) = try channel.readInbound(as: RequestPart.self) else { Issue.record("no request head reached the routes"); return }
        #expect(head.headerFields[ConnectionGuard.peerHeader] == "127.0.0.1")
    }
}
