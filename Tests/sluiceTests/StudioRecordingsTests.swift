import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// Studio's recording routes end to end (docs/studio.md#recordings): a recording made by the
/// real `sluice record`, listed by `GET /studio/api/recordings` and run in slices through
/// `POST /studio/api/recordings/run` with the editor's code, compared as `sluice replay` compares.
@Suite(.serialized) struct StudioRecordings {
    typealias Studio = StudioCommand.Studio

    /// Five events, each with its own timestamp; m-4 is an identify.
    static let events = [
        #"{"type":"track","event":"keep","messageId":"m-1","timestamp":"2026-03-01T10:00:01Z"}"#,
        #"{"type":"track","event":"split","messageId":"m-2","timestamp":"2026-03-01T10:00:02Z"}"#,
        #"{"type":"track","event":"drop","messageId":"m-3","timestamp":"2026-03-01T10:00:03Z"}"#,
        #"{"type":"identify","event":"keep","messageId":"m-4","timestamp":"2026-03-01T10:00:04Z"}"#,
        #"{"type":"track","event":"keep","messageId":"m-5","timestamp":"2026-03-01T10:00:05Z"}"#,
    ]

    /// StudioCommand's project, with `recordings/shaper-0001.ndjson` written by `sluice record`,
    /// a recording with lines that are not recordings, one with none at all, and a link that
    /// leads out of the folder to a recording beside it.
    static func project() throws -> String {
        let folder = try StudioCommand.project()
        let input = folder + "/input.ndjson"
        try Data((events.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: input))
        let recorded = try sluice(["record", input, "--transformation", folder + "/transformations/shaper", "--output", folder + "/recordings",
                                   "--isolation", "in-process"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let lines = try String(contentsOfFile: folder + "/recordings/shaper-0001.ndjson", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 5)
        try Data("\(lines[0])\nnot json at all\n{\"foo\": 1}\n\(lines[4])\n".utf8).write(to: URL(fileURLWithPath: folder + "/recordings/broken.ndjson"))
        try Data("nope\n{\"a\": 1}\n".utf8).write(to: URL(fileURLWithPath: folder + "/recordings/garbage.ndjson"))
        // Outside the recordings folder: never listed, never read, even through a link.
        try Data("\(lines[0].replacingOccurrences(of: "m-1", with: "outside-secret"))\n".utf8)
            .write(to: URL(fileURLWithPath: folder + "/outside.ndjson"))
        try FileManager.default.createSymbolicLink(atPath: folder + "/recordings/escape.ndjson", withDestinationPath: folder + "/outside.ndjson")
        return folder
    }

    static func slice(_ studio: Studio, _ body: [String: Any], token: String) async throws -> (status: Int, object: [String: Any], text: String) {
        try await studio.post("/studio/api/recordings/run", body, token: token)
    }

    @Test func listsRecordingsWithTheirTransformationEventsAndTimeRange() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        let listing = try await studio.object("/studio/api/recordings")
        #expect(listing["maximumSlice"] as? Int == 1000)
        #expect((listing["folders"] as? [[String: Any]])?.map { $0["path"] as? String } == [folder + "/recordings"])
        let recordings = try #require(listing["recordings"] as? [[String: Any]])
        #expect(recordings.map { $0["id"] as? String } == ["1:broken", "1:garbage", "1:shaper"], "the link out of the folder is not listed")
        let shaper = try #require(recordings.last)
        #expect(shaper["name"] as? String == "shaper" && shaper["transformation"] as? String == "shaper")
        #expect(shaper["events"] as? Int == 5)
        #expect((shaper["files"] as? [[String: Any]])?.map { $0["name"] as? String } == ["shaper-0001.ndjson"])
        #expect(shaper["firstTimestamp"] as? String == "2026-03-01T10:00:01Z" && shaper["lastTimestamp"] as? String == "2026-03-01T10:00:05Z")
        #expect(recordings[0]["events"] as? Int == 4 && recordings[0]["transformation"] is NSNull)
        #expect(!(try await studio.get("/studio/api/recordings")).body.contains("outside-secret"))
    }

    @Test func runsASliceWithChangedCodeAndComparesEachEventWithTheRecording() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let code = try #require(try await studio.object("/studio/api/transformations/shaper")["code"] as? String)
        let base: [String: Any] = ["name": "shaper", "language": "javascript", "recording": "1:shaper"]

        // The recorded code on the whole recording: every event unchanged, with its place in the file.
        let same = try await Self.slice(studio, base.merging(["code": code, "count": 5]) { $1 }, token: token)
        #expect(same.status == 200, "\(same.text)")
        let run = try #require((same.object["runs"] as? [[String: Any]])?.first, "\(same.text)")
        #expect(run["status"] as? String == "unchanged", "\(run)")
        let replay = try #require(run["replay"] as? [String: Any])
        #expect(replay["events"] as? Int == 5 && replay["unchanged"] as? Int == 5 && replay["changed"] as? Int == 0)
        let events = try #require(run["events"] as? [[String: Any]])
        #expect(events.map { $0["outcome"] as? String } == ["output", "split", "dropped", "output", "output"])
        #expect(events.map { $0["line"] as? Int } == [1, 2, 3, 4, 5])
        #expect(events.allSatisfy { $0["file"] as? String == "shaper-0001.ndjson" && $0["comparison"] as? String == "unchanged" })
        #expect(events.map { $0["messageId"] as? String } == ["m-1", "m-2", "m-3", "m-4", "m-5"])

        // Changed code on events 2–5: one changed (by path, old → new), one newly failing.
        let edited = code.replacingOccurrences(of: "part: 2", with: "part: 3")
            .replacingOccurrences(of: "export function transformEvent(event, metadata) {",
                                  with: "export function transformEvent(event, metadata) {\n  if (event.messageId === \"m-5\") throw new Error(\"new failure\");")
        #expect(edited != code)
        let changed = try await Self.slice(studio, base.merging(["code": edited, "offset": 1, "count": 4]) { $1 }, token: token)
        let changedRun = try #require((changed.object["runs"] as? [[String: Any]])?.first, "\(changed.text)")
        #expect(changedRun["status"] as? String == "changed")
        let counts = try #require(changedRun["replay"] as? [String: Any])
        #expect(counts["events"] as? Int == 4 && counts["unchanged"] as? Int == 2 && counts["changed"] as? Int == 1
                && counts["newlyFailing"] as? Int == 1 && counts["newlyPassing"] as? Int == 0, "\(counts)")
        #expect((counts["paths"] as? [String: Int])?["$[*].output.part"] == 1, "\(counts)")
        let changedEvents = try #require(changedRun["events"] as? [[String: Any]])
        #expect(changedEvents.map { $0["line"] as? Int } == [2, 3, 4, 5])
        #expect(changedEvents.map { $0["comparison"] as? String } == ["changed", "unchanged", "unchanged", "newly failing"])
        let difference = try #require((changedEvents[0]["changes"] as? [[String: Any]])?.first)
        #expect(difference["path"] as? String == "$[1].output.part" && difference["expected"] as? Int == 2 && difference["actual"] as? Int == 3)
        #expect((difference["event"] as? [String: Any])?["file"] as? String == "shaper-0001.ndjson")
        #expect((changedEvents[0]["recorded"] as? [[String: Any]])?.count == 2 && (changedEvents[0]["fresh"] as? [[String: Any]])?.count == 2)
        #expect((changedEvents[3]["error"] as? [String: Any])?["kind"] as? String == "exception")
        let slice = try #require(changedRun["recording"] as? [String: Any])
        #expect(slice["offset"] as? Int == 1 && (slice["from"] as? [String: Any])?["line"] as? Int == 2 && (slice["to"] as? [String: Any])?["line"] as? Int == 5)

        // Only identify events.
        let identify = try await Self.slice(studio, base.merging(["code": code, "type": "identify", "count": 10]) { $1 }, token: token)
        let identifyEvents = try #require((identify.object["runs"] as? [[String: Any]])?.first?["events"] as? [[String: Any]], "\(identify.text)")
        #expect(identifyEvents.map { $0["messageId"] as? String } == ["m-4"] && identifyEvents.first?["line"] as? Int == 4)

        // Python against a JavaScript recording is fine too: it is the editor's code that runs.
        let python = try await Self.slice(studio, ["language": "python", "recording": "1:shaper", "count": 1,
                                                   "code": "def transformEvent(event, metadata):\n    return event\n"], token: token)
        #expect((python.object["runs"] as? [[String: Any]])?.first?["status"] as? String == "changed", "\(python.text)")
    }

    @Test func refusesUnknownRecordingsPathsOutsideTheFolderTooLargeSlicesAndReportsBadLines() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let code = "export function transformEvent(event) { return event; }\n"
        func slice(_ fields: [String: Any]) async throws -> (status: Int, object: [String: Any], text: String) {
            try await Self.slice(studio, ["language": "javascript", "code": code].merging(fields) { $1 }, token: token)
        }

        let unknown = try await slice(["recording": "1:nope"])
        #expect(unknown.status == 404 && (unknown.object["error"] as? String)?.contains("no recording 1:nope") == true, "\(unknown.text)")
        // Ids are looked up in the listing: no path from the request is ever opened.
        for id in ["../outside", "1:../outside", "1:escape", folder + "/outside.ndjson", "1:../../../../etc/passwd", "1:/etc/passwd"] {
            let answer = try await slice(["recording": id])
            #expect(answer.status == 404, "\(id): \(answer.text)")
            #expect(!answer.text.contains("outside-secret"), "\(id)")
        }

        let large = try await slice(["recording": "1:shaper", "count": 1001])
        #expect(large.status == 400 && (large.object["error"] as? String)?.contains("slice limit of 1000 events") == true, "\(large.text)")
        #expect(try await slice(["recording": "1:shaper", "count": 0]).status == 400)
        #expect(try await slice(["recording": "1:shaper", "offset": -1]).status == 400)
        let past = try await slice(["recording": "1:shaper", "offset": 5])
        #expect(past.status == 400 && (past.object["error"] as? String)?.contains("has 5 events: offset 5 is past its end") == true, "\(past.text)")
        let noType = try await slice(["recording": "1:shaper", "type": "alias"])
        #expect(noType.status == 400 && (noType.object["error"] as? String)?.contains("0 events of type alias") == true, "\(noType.text)")
        #expect(try await slice(["recording": 7]).status == 400)
        #expect(try await slice(["code": "", "recording": "1:shaper"]).status == 400)

        // Lines that are not recordings: named by file and line, the others run.
        let broken = try await slice(["recording": "1:broken", "count": 10])
        #expect(broken.status == 200, "\(broken.text)")
        let run = try #require((broken.object["runs"] as? [[String: Any]])?.first)
        let unreadable = try #require(run["unreadable"] as? [[String: Any]])
        #expect(unreadable.map { $0["line"] as? Int } == [2, 3], "\(unreadable)")
        #expect(unreadable.allSatisfy { $0["file"] as? String == "broken.ndjson" })
        #expect((unreadable[1]["message"] as? String)?.contains("not a recording line") == true)
        #expect((run["events"] as? [[String: Any]])?.map { $0["line"] as? Int } == [1, 4])
        #expect((run["replay"] as? [String: Any])?["unreadable"] as? Int == 2)
        // Nothing readable in the slice: an error naming the first bad line.
        let garbage = try await slice(["recording": "1:garbage"])
        #expect(garbage.status == 422 && (garbage.object["error"] as? String)?.contains("garbage.ndjson line 1") == true, "\(garbage.text)")

        // The same guard as every Studio change: no token, no run; the plain run route sends slices here.
        let data = try JSONSerialization.data(withJSONObject: ["language": "javascript", "code": code, "recording": "1:shaper"])
        let forged = try await studio.request("POST", "/studio/api/recordings/run", body: String(decoding: data, as: UTF8.self),
                                              headers: ["Content-Type": "application/json", "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"])
        #expect(forged.status == 403)
        let misrouted = try await studio.run(["language": "javascript", "code": code, "recording": "1:shaper"], token: token)
        #expect(misrouted.status == 400 && misrouted.text.contains("/studio/api/recordings/run"), "\(misrouted.text)")
    }

    @Test func serveListsItsRecordFolderAndTheStudioRecordingsFolders() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["serve", "--host", "127.0.0.1", "--port", "0", "--isolation", "in-process",
                                            "--transformations", folder + "/transformations", "--libraries", folder + "/libraries",
                                            "--record", folder + "/live", "--studio-recordings", folder + "/recordings"], expectURL: false)
        // Live traffic, recorded per version by the service itself.
        let batch = "[" + ["m-7", "m-8"].map { id in
            #"{"message":{"type":"track","event":"keep","messageId":"\#(id)","timestamp":"2026-04-01T00:00:0\#(id.last!)Z"},"metadata":{"messageId":"\#(id)","sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"shaper"}]}}"#
        }.joined(separator: ",") + "]"
        let live = try await studio.request("POST", "/customTransform", body: batch, headers: ["Content-Type": "application/json"])
        #expect(live.status == 200, "\(live.body)")
        let listing = try await studio.object("/studio/api/recordings")
        #expect((listing["folders"] as? [[String: Any]])?.map { $0["path"] as? String } == [folder + "/recordings", folder + "/live"])
        let recordings = try #require(listing["recordings"] as? [[String: Any]])
        #expect(recordings.compactMap { $0["id"] as? String }.contains("1:shaper"))
        let recorded = try #require(recordings.first { $0["id"] as? String == "2:shaper" }, "\(recordings)")
        #expect(recorded["events"] as? Int == 2 && recorded["transformation"] as? String == "shaper", "\(recorded)")
        #expect(recorded["firstTimestamp"] as? String == "2026-04-01T00:00:07Z" && recorded["lastTimestamp"] as? String == "2026-04-01T00:00:08Z")

        // Its events, as the service received them ({message, metadata}), run and compare unchanged.
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let code = try #require(try await studio.object("/studio/api/transformations/shaper")["code"] as? String)
        let slice = try await Self.slice(studio, ["name": "shaper", "language": "javascript", "code": code, "recording": "2:shaper"], token: token)
        let run = try #require((slice.object["runs"] as? [[String: Any]])?.first, "\(slice.text)")
        #expect(run["status"] as? String == "unchanged", "\(run)")
        #expect((run["events"] as? [[String: Any]])?.map { $0["messageId"] as? String } == ["m-7", "m-8"])
    }
}
