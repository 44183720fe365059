import Foundation
import SluiceTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Studio's routes for what runs live (docs/studio.md): the traffic charts' samples, shadow runs
/// and canary rollouts — the real `sluice studio` binary on a project folder, over loopback.
@Suite(.serialized) struct StudioLive {
    typealias Studio = StudioCommand.Studio

    /// A change the way the page makes it: same origin, with the session's token.
    static func change(_ studio: Studio, _ method: String, _ path: String, _ body: [String: Any] = [:], token: String?,
                       origin: String? = nil) async throws -> (status: Int, object: [String: Any], text: String) {
        var headers = ["Content-Type": "application/json", "Origin": origin ?? "http://127.0.0.1:\(studio.port)", "Sec-Fetch-Site": "same-origin"]
        if let token { headers["X-Sluice-Studio-Token"] = token }
        let data = try JSONSerialization.data(withJSONObject: body)
        let answer = try await studio.request(method, path, body: method == "DELETE" ? nil : String(decoding: data, as: UTF8.self), headers: headers)
        let object = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]) ?? [:]
        return (answer.status, object, answer.body)
    }

    /// Live traffic: a streamed run by name through `/v1`, as a client would send it.
    static func traffic(_ studio: Studio, _ name: String, _ events: [String]) async throws {
        let answer = try await studio.request("POST", "/v1/transformations/\(name)/run", body: events.joined(separator: "\n"))
        #expect(answer.status == 200, "\(answer.body)")
    }

    /// An API transformation `scratch` with two versions: `(first, second)`, the second live.
    static func scratch(_ studio: Studio, token: String) async throws -> (String, String) {
        let one = try await studio.post("/studio/api/publish", ["name": "scratch", "language": "javascript",
                                                                "code": "export function transformEvent(event) { return event; }\n"], token: token)
        let two = try await studio.post("/studio/api/publish", ["name": "scratch",
                                                                "code": "export function transformEvent(event) { return { ...event, two: true }; }\n"], token: token)
        #expect(one.status == 201 && two.status == 201, "\(one.text) \(two.text)")
        return (try #require(one.object["liveVersion"] as? String), try #require(two.object["version"] as? String))
    }

    @Test func trafficShowsEachTransformationsEventsErrorsAndP99FromTheServicesOwnMetrics() async throws {
        let folder = try StudioCommand.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let quiet = try await studio.object("/studio/api/traffic")
        #expect(quiet["intervalSeconds"] as? Int == 5 && quiet["windowSeconds"] as? Int == 900)
        #expect((quiet["transformations"] as? [Any])?.isEmpty == true, "\(quiet)")

        // A Studio run is not live traffic: it does not show.
        let code = try #require(try await studio.object("/studio/api/transformations/shaper")["code"] as? String)
        #expect(try await studio.run(["name": "shaper", "language": "javascript", "code": code], token: token).status == 200)
        #expect((try await studio.object("/studio/api/traffic")["transformations"] as? [Any])?.isEmpty == true)

        try await Self.traffic(studio, "shaper", [
            #"{"type":"track","event":"keep","messageId":"t-1"}"#, #"{"type":"track","event":"split","messageId":"t-2"}"#,
            #"{"type":"track","event":"drop","messageId":"t-3"}"#, #"{"type":"track","event":"throw","messageId":"t-4"}"#,
        ])
        let busy = try await studio.object("/studio/api/traffic")
        let shaper = try #require((busy["transformations"] as? [[String: Any]])?.first { $0["name"] as? String == "shaper" }, "\(busy)")
        let samples = try #require(shaper["samples"] as? [[String: Any]])
        #expect(samples.reduce(0) { $0 + ($1["events"] as? Int ?? 0) } == 4)
        #expect(samples.reduce(0) { $0 + ($1["errors"] as? Int ?? 0) } == 1)
        #expect(samples.reduce(0) { $0 + ($1["limitHits"] as? Int ?? 0) } == 0)
        let last = try #require(samples.last)
        #expect((last["eventsPerSecond"] as? Double).map { $0 > 0 } == true)
        #expect((last["p99Milliseconds"] as? Double).map { $0 > 0 } == true, "\(last)")
        let page = try await studio.get("/studio/api/traffic")
        #expect(page.headers.value(forHTTPHeaderField: "Content-Security-Policy") != nil)
        for asset in ["charts.js", "rollouts.js", "dom.js", "live.css"] {
            let answer = try await studio.get("/studio/assets/\(asset)")
            #expect(answer.status == 200, "\(asset)")
            let text = answer.body.replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
            #expect(!text.contains("http://") && !text.contains("https://"), "\(asset) fetches nothing from elsewhere")
        }
    }

    @Test func startsReadsAndStopsAShadowRunThroughStudiosGuard() async throws {
        let folder = try StudioCommand.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let (first, second) = try await Self.scratch(studio, token: token)
        let path = "/studio/api/transformations/scratch/shadow"
        #expect(try await studio.get(path).status == 404)
        // What the page polls: none is null, not a 404.
        let nothing = try await studio.object("/studio/api/transformations/scratch/fleet")
        #expect(nothing["shadow"] is NSNull && nothing["rollout"] is NSNull, "\(nothing)")

        // Only from Studio's page.
        #expect(try await Self.change(studio, "POST", path, ["candidate": first, "sampleRate": 1], token: nil).status == 403)
        #expect(try await Self.change(studio, "POST", path, ["candidate": first, "sampleRate": 1], token: token, origin: "http://evil.example").status == 403)
        // The /v1 route's own checks, with its words.
        let unknownName = try await Self.change(studio, "POST", "/studio/api/transformations/nope/shadow", ["candidate": first, "sampleRate": 1], token: token)
        #expect(unknownName.status == 404, "\(unknownName.text)")
        let unknownVersion = try await Self.change(studio, "POST", path, ["candidate": "sv000000000000000000000000", "sampleRate": 1], token: token)
        #expect(unknownVersion.status == 404 && (unknownVersion.object["error"] as? String)?.contains("has no version") == true, "\(unknownVersion.text)")
        let live = try await Self.change(studio, "POST", path, ["candidate": second, "sampleRate": 1], token: token)
        #expect(live.status == 400 && (live.object["error"] as? String)?.contains("live version") == true, "\(live.text)")
        #expect(try await Self.change(studio, "POST", path, ["candidate": first], token: token).status == 400)

        let started = try await Self.change(studio, "POST", path, ["candidate": first, "sampleRate": 1], token: token)
        #expect(started.status == 201 && started.object["state"] as? String == "running" && started.object["candidate"] as? String == first, "\(started.text)")
        #expect(try await Self.change(studio, "POST", path, ["candidate": first, "sampleRate": 1], token: token).status == 409)
        let polled = try await studio.object("/studio/api/transformations/scratch/fleet")
        #expect((polled["shadow"] as? [String: Any])?["candidate"] as? String == first && polled["rollout"] is NSNull, "\(polled)")

        // Live traffic: the candidate (no `two`) differs from the live version on every event.
        var report: [String: Any] = [:]
        let deadline = Date().addingTimeInterval(30)
        repeat {
            try await Self.traffic(studio, "scratch", [#"{"type":"track","messageId":"s-1"}"#, #"{"type":"track","messageId":"s-2"}"#])
            try await Task.sleep(for: .milliseconds(200))
            report = try await studio.object(path)
        } while ((report["events"] as? [String: Any])?["changed"] as? Int ?? 0) == 0 && Date() < deadline
        let events = try #require(report["events"] as? [String: Any], "\(report)")
        #expect((events["compared"] as? Int ?? 0) > 0 && (events["changed"] as? Int ?? 0) > 0, "\(report)")
        let example = try #require((report["examples"] as? [[String: Any]])?.first, "\(report)")
        #expect((example["differences"] as? [[String: Any]])?.contains { ($0["path"] as? String)?.hasSuffix(".output.two") == true } == true, "\(example)")

        #expect(try await Self.change(studio, "DELETE", path, token: nil).status == 403)
        let stopped = try await Self.change(studio, "DELETE", path, token: token)
        #expect(stopped.status == 200 && stopped.object["state"] as? String == "stopped", "\(stopped.text)")
        #expect(try await studio.get(path).status == 404)
        #expect(try await Self.change(studio, "DELETE", path, token: token).status == 404)
    }

    @Test func startsPromotesAndAbortsACanaryRolloutThroughStudiosGuard() async throws {
        let folder = try StudioCommand.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let (first, second) = try await Self.scratch(studio, token: token)
        let path = "/studio/api/transformations/scratch/rollout"
        #expect(try await studio.get(path).status == 404)

        #expect(try await Self.change(studio, "POST", path, ["candidate": first, "percent": 50], token: nil).status == 403)
        // A folder transformation changes in its folder: no rollout.
        let folderRollout = try await Self.change(studio, "POST", "/studio/api/transformations/shaper/rollout", ["candidate": first, "percent": 50], token: token)
        #expect(folderRollout.status == 409 && (folderRollout.object["error"] as? String)?.contains("folder") == true, "\(folderRollout.text)")
        #expect(try await Self.change(studio, "POST", "/studio/api/transformations/nope/rollout", ["candidate": first, "percent": 50], token: token).status == 404)
        let unknownVersion = try await Self.change(studio, "POST", path, ["candidate": "sv000000000000000000000000", "percent": 50], token: token)
        #expect(unknownVersion.status == 404 && (unknownVersion.object["error"] as? String)?.contains("has no version") == true, "\(unknownVersion.text)")

        let started = try await Self.change(studio, "POST", path, ["candidate": first, "percent": 50], token: token)
        #expect(started.status == 201 && started.object["state"] as? String == "active", "\(started.text)")
        #expect(started.object["live"] as? String == second && started.object["candidate"] as? String == first && started.object["percent"] as? Double == 50)
        let read = try await studio.object(path)
        #expect(read["state"] as? String == "active" && read["counts"] is [String: Any])
        let polled = try await studio.object("/studio/api/transformations/scratch/fleet")
        #expect((polled["rollout"] as? [String: Any])?["state"] as? String == "active" && polled["shadow"] is NSNull, "\(polled)")

        #expect(try await Self.change(studio, "POST", path + "/promote", token: nil).status == 403)
        let promoted = try await Self.change(studio, "POST", path + "/promote", token: token)
        #expect(promoted.status == 200 && promoted.object["state"] as? String == "promoted", "\(promoted.text)")
        #expect(try await studio.object("/studio/api/transformations/scratch")["liveVersion"] as? String == first)
        #expect(try await Self.change(studio, "POST", path + "/promote", token: token).status == 404)

        // Another, aborted: the live version stays.
        #expect(try await Self.change(studio, "POST", path, ["candidate": second, "percent": 10], token: token).status == 201)
        #expect(try await Self.change(studio, "DELETE", path, token: nil).status == 403)
        let aborted = try await Self.change(studio, "DELETE", path, token: token)
        #expect(aborted.status == 200 && aborted.object["state"] as? String == "aborted", "\(aborted.text)")
        #expect(try await studio.object("/studio/api/transformations/scratch")["liveVersion"] as? String == first)

        // The audit list says Studio made the changes.
        let audit = try await studio.object("/v1/transformations/scratch/audit")
        let entries = try #require(audit["entries"] as? [[String: Any]])
        #expect(entries.compactMap { $0["action"] as? String } == ["start", "promote", "start", "abort"], "\(entries)")
        #expect(entries.allSatisfy { ($0["actor"] as? String)?.hasPrefix("studio") == true }, "\(entries)")
    }
}
