import Foundation
import SluiceCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Shadow runs through `sluice serve` (the real binary, worker processes): the routes' checks,
/// a candidate compared with live traffic of both `/customTransform` and `/v1/…/run`, the
/// report with redacted examples, the metrics and the log, and DELETE.
@Suite(.serialized) struct ShadowServe {
    typealias Server = ServeCommand.Server

    func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    @Test func aShadowRunIsCheckedStartedReportedWithRedactedValuesAndStopped() async throws {
        let root = try folder(["placeholder/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--workers", "2", "--record-redact", "$.message.context.traits.email"])
        _ = server.log  // from here on, standard error is read in the background
        // The candidate first, then the live code: both are versions of `shop`.
        let candidateCode = "export function transformEvent(e) { e.context.traits.email = e.context.traits.email.toUpperCase(); if (e.n === 3) return null; return e; }"
        let created = try await server.post("/v1/transformations", #"{"name":"shop","language":"javascript","code":\#(JSONString.encode(candidateCode))}"#)
        #expect(created.status == 201)
        let candidate = try #require(try json(created.body)["liveVersion"] as? String)
        let put = try await server.send("PUT", "/v1/transformations/shop/code", "export function transformEvent(e) { e.live = true; return e; }",
                                        headers: ["Content-Type": "text/plain"])
        let live = try #require(try json(put.body)["version"] as? String)
        let other = try await server.post("/v1/transformations", #"{"name":"other","language":"javascript","code":"export function transformEvent(e) { return e; }"}"#)
        let otherVersion = try #require(try json(other.body)["liveVersion"] as? String)

        // Refused, each naming what is wrong.
        func refused(_ body: String, on name: String = "shop") async throws -> (Int, String) {
            let response = try await server.post("/v1/transformations/\(name)/shadow", body)
            return (response.status, (try? json(response.body)["error"] as? String) ?? response.body)
        }
        let cases: [(body: String, name: String, status: Int, says: String)] = [
            ("{}", "shop", 400, "candidate is required"),
            ("[1]", "shop", 400, "JSON object"),
            (#"{"candidate":"\#(candidate)"}"#, "shop", 400, "sampleRate is required"),
            (#"{"candidate":"\#(candidate)","sampleRate":0}"#, "shop", 400, "sampleRate"),
            (#"{"candidate":"\#(candidate)","sampleRate":1.5}"#, "shop", 400, "not 1.5"),
            (#"{"candidate":"\#(candidate)","sampleRate":true}"#, "shop", 400, "sampleRate"),
            (#"{"candidate":"\#(candidate)","sampleRate":0.5,"maxCpuShare":2}"#, "shop", 400, "maxCpuShare must be"),
            (#"{"candidate":"\#(candidate)","sampleRate":0.5,"rate":1}"#, "shop", 400, "rate is not a shadow setting"),
            (#"{"candidate":"sv0000000000000000000000","sampleRate":0.5}"#, "shop", 404, "candidate: transformation shop has no version sv0000000000000000000000"),
            (#"{"candidate":"\#(otherVersion)","sampleRate":0.5}"#, "shop", 400, "is a version of transformation other, not of shop"),
            (#"{"candidate":"\#(live)","sampleRate":0.5}"#, "shop", 400, "is the live version of shop"),
            (#"{"candidate":"\#(candidate)","sampleRate":0.5}"#, "nope", 404, "transformation nope not found"),
        ]
        for check in cases {
            let (status, message) = try await refused(check.body, on: check.name)
            #expect(status == check.status && message.contains(check.says), "\(check.body): \(status) \(message)")
        }
        #expect(try await server.get("/v1/transformations/shop/shadow").status == 404)

        let started = try await server.post("/v1/transformations/shop/shadow", #"{"candidate":"\#(candidate)","sampleRate":1,"maxCpuShare":1}"#)
        #expect(started.status == 201)
        let initial = try json(started.body)
        #expect(initial["candidate"] as? String == candidate && initial["liveVersion"] as? String == live && initial["state"] as? String == "running")
        let (again, message) = try await refused(#"{"candidate":"\#(candidate)","sampleRate":0.5}"#)
        #expect(again == 409 && message.contains("already has a shadow run"))

        // Live traffic, one request at a time (a candidate batch runs only when none is in flight).
        func compared() async throws -> Int {
            let report = try json(try await server.get("/v1/transformations/shop/shadow").body)
            return (report["batches"] as? [String: Any])?["compared"] as? Int ?? -1
        }
        for n in 1...4 {
            let before = try await compared()
            let body = ServeCommand.request(version: "shop", messages: [#"{"n":\#(n),"context":{"traits":{"email":"ada\#(n)@example.com"}}}"#])
            let response = try await server.post("/customTransform", body)
            #expect(response.status == 200 && response.body.contains(#""live":true"#) && response.body.contains("ada\(n)@example.com"),
                    "the live version answers: \(response.body)")
            let deadline = Date().addingTimeInterval(10)
            while try await compared() == before && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }
        }
        let run = try await server.post("/v1/transformations/shop/run", #"{"n":5,"context":{"traits":{"email":"bob@example.com"}}}"#)
        #expect(run.body.contains(#""live":true"#))
        let deadline = Date().addingTimeInterval(10)
        while try await compared() < 5 && Date() < deadline { try await Task.sleep(for: .milliseconds(20)) }

        let reportText = try await server.get("/v1/transformations/shop/shadow").body
        let report = try json(reportText)
        let events = try #require(report["events"] as? [String: Int])
        #expect(events["compared"] == 5 && events["changed"] == 4 && events["newlyDropped"] == 1, "\(reportText)")
        #expect((report["batches"] as? [String: Int])?["compared"] == 5)
        let paths = try #require(report["paths"] as? [[String: Any]])
        #expect(paths.contains { $0["path"] as? String == "$[*].output.context.traits.email" && $0["count"] as? Int == 4 })
        #expect(paths.contains { $0["path"] as? String == "$[*].output.live" })
        #expect(reportText.contains("[redacted]"))
        #expect(!reportText.lowercased().contains("@example.com"), "example values are redacted: \(reportText)")

        // The candidate ran in a worker of its own, at the lowest CPU priority.
        let nices = ServeCommand.workerPids(of: server.process.processIdentifier).compactMap { pid -> Int? in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let fields = stat.split(separator: ")").last?.split(separator: " ") else { return nil }
            return Int(fields[16])  // field 19 of stat, counted after the command's closing parenthesis
        }
        #expect(nices.filter { $0 == 19 }.count == 1 && nices.filter { $0 == 0 }.count >= 2, "worker nice values: \(nices)")
        // … waited on by a thread of the server's own at that priority.
        let taskFolder = "/proc/\(server.process.processIdentifier)/task"
        let threadNices = ((try? FileManager.default.contentsOfDirectory(atPath: taskFolder)) ?? []).compactMap { tid -> Int? in
            guard let stat = try? String(contentsOfFile: "\(taskFolder)/\(tid)/stat", encoding: .utf8),
                  let fields = stat.split(separator: ")").last?.split(separator: " ") else { return nil }
            return Int(fields[16])
        }
        #expect(threadNices.filter { $0 == 19 }.count == 1, "server thread nice values: \(threadNices)")

        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains(#"sluice_shadow_sampled_events_total{transformation="shop"} 5"#))
        #expect(metrics.contains(#"sluice_shadow_events_total{transformation="shop",outcome="newly_dropped"} 1"#))

        let stopped = try await server.send("DELETE", "/v1/transformations/shop/shadow", "", headers: [:])
        #expect(stopped.status == 200)
        #expect(try json(stopped.body)["state"] as? String == "stopped")
        #expect(try await server.get("/v1/transformations/shop/shadow").status == 404)
        #expect(try await server.send("DELETE", "/v1/transformations/shop/shadow", "", headers: [:]).status == 404)
        #expect(server.stop() == 0)
        let text = server.log
        #expect(text.contains("shadow run started") && text.contains("shadow run stopped") && text.contains("shadow runs' worker started (nice 19)"))
    }
}
