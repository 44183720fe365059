import Foundation
import Testing

/// Canary rollouts through the real `sluice serve`: the routes, the split of `/customTransform`,
/// the audit list's actors, and two replicas on one PostgreSQL store applying one rollout.
@Suite(.serialized) struct RolloutServe {
    typealias Server = ServeCommand.Server

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "\(text)")
    }

    /// 40 events of 40 users, the transformation named by name; what ran each (`live`,
    /// `candidate`), by messageId.
    func ran(_ server: Server, _ name: String) async throws -> [String: String] {
        let body = "[" + (0..<40).map { n in
            #"{"message":{"userId":"u\#(n)","n":\#(n)},"metadata":{"messageId":"m\#(n)","sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"\#(name)"}]}}"#
        }.joined(separator: ",") + "]"
        let response = try await server.post("/customTransform", body)
        #expect(response.status == 200)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
        #expect(items.count == 40)
        var ran: [String: String] = [:]
        for item in items {
            let id = try #require((item["metadata"] as? [String: Any])?["messageId"] as? String)
            ran[id] = (item["output"] as? [String: Any])?["ran"] as? String
        }
        return ran
    }

    /// Creates `name` with a candidate version and a live one; returns the candidate's id.
    func publishTwoVersions(_ server: Server, _ name: String) async throws -> String {
        let created = try await server.post("/v1/transformations", #"{"name":"\#(name)","language":"javascript","code":"export function transformEvent(e) { e.ran = 'candidate'; return e; }"}"#)
        #expect(created.status == 201, "\(created.body)")
        let candidate = try #require(try json(created.body)["liveVersion"] as? String)
        let live = try await server.send("PUT", "/v1/transformations/\(name)/code", "export function transformEvent(e) { e.ran = 'live'; return e; }",
                                         headers: ["Content-Type": "text/plain"])
        #expect(live.status == 201)
        return candidate
    }

    @Test func aRolloutSplitsTrafficAndEveryChangeIsAuditedWithWhoMadeIt() async throws {
        let root = try folder(["placeholder/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root)
        let candidate = try await publishTwoVersions(server, "enrich")
        let bad = try await server.post("/v1/transformations/enrich/rollout", #"{"candidate":"\#(candidate)","percent":10,"steps":[{"percent":5,"after":"1m"}]}"#)
        #expect(bad.status == 400 && bad.body.contains("steps[0].percent must be more than percent (10)"))
        #expect(try await server.post("/v1/transformations/placeholder/rollout", #"{"candidate":"sv1","percent":10}"#).status == 409)
        let started = try await server.post("/v1/transformations/enrich/rollout", #"{"candidate":"\#(candidate)","percent":50}"#,
                                            headers: ["X-Sluice-Actor": "alice"])
        #expect(started.status == 201, "\(started.body)")
        let first = try await ran(server, "enrich")
        #expect(Set(first.values) == ["live", "candidate"])
        #expect(try await ran(server, "enrich") == first, "sticky per user")
        let state = try json(try await server.get("/v1/transformations/enrich/rollout").body)
        let counts = try #require(state["counts"] as? [String: [String: Any]])
        #expect(counts["candidate"]?["events"] as? Int == 2 * first.values.filter { $0 == "candidate" }.count)
        // A client that says nothing about itself is recorded by its address.
        #expect(try await server.post("/v1/transformations/enrich/rollout/promote", "").status == 200)
        #expect(Set(try await ran(server, "enrich").values) == ["candidate"])
        let audit = try json(try await server.get("/v1/transformations/enrich/audit").body)["entries"] as? [[String: Any]]
        #expect(audit?.map { $0["action"] as? String } == ["start", "promote"])
        #expect(audit?.map { $0["actor"] as? String } == ["alice", "127.0.0.1"])
        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains(#"sluice_rollout_changes_total{transformation="enrich",action="promote"} 1"#))
        #expect(server.stop() == 0)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] != nil || ProcessInfo.processInfo.environment["CI"] != nil))
    func twoReplicasOnOnePostgreSQLStoreApplyOneRollout() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"], "CI must provide SLUICE_TEST_POSTGRES_URL")
        let root = try folder(["placeholder/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try Server(transformations: root, arguments: ["--store", url])
        let second = try Server(transformations: root, arguments: ["--store", url])
        let name = "canary-\(UUID().uuidString.prefix(8))"
        let candidate = try await publishTwoVersions(first, name)
        #expect(try await first.post("/v1/transformations/\(name)/rollout", #"{"candidate":"\#(candidate)","percent":50}"#).status == 201)
        let onFirst = try await ran(first, name)
        // The other replica re-reads the rollout within a second, and splits the same users the same way.
        var onSecond: [String: String] = [:]
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            onSecond = try await ran(second, name)
            if onSecond == onFirst { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(onSecond == onFirst)
        let aborted = try await second.send("DELETE", "/v1/transformations/\(name)/rollout", "", headers: ["X-Sluice-Actor": "bob"])
        #expect(aborted.status == 200)
        let audit = try json(try await first.get("/v1/transformations/\(name)/audit").body)["entries"] as? [[String: Any]]
        #expect(audit?.map { $0["action"] as? String } == ["start", "abort"])
        #expect(audit?.last?["actor"] as? String == "bob")
        #expect(first.stop() == 0 && second.stop() == 0)
    }
}
