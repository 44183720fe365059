import Foundation
import Testing

/// `sluice record`, `replay` and `test` reports as a user meets them: the real binary on real files.
@Suite struct RecordReplayReports {
    static let hashing = "export function transformEvent(e) { e.domain = e.email ? e.email.split('@')[1] : null; return e.drop ? null : e; }"
    static let input = """
    {"messageId":"m1","email":"ann@example.com"}
    {"messageId":"m2","drop":true}
    {"messageId":"m3"}

    """

    @Test func recordWarnsWhenARedactedPathFeedsTheOutput() throws {
        let root = try folder(["t.js": Self.hashing, "in.ndjson": Self.input])
        defer { try? FileManager.default.removeItem(at: root) }
        let recorded = try sluice(["record", root.path + "/in.ndjson", "--transformation", root.path + "/t.js", "--output", root.path + "/rec",
                                   "--redact", "$.email", "--isolation", "in-process"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        #expect(recorded.stderr.contains("warning: redacted input feeds the output of 1 of 3 recorded events (--redact $.email)"), "\(recorded.stderr)")
        #expect(recorded.stderr.contains("\(root.path)/in.ndjson:1, messageId m1: $[0].output.domain: missing"), "\(recorded.stderr)")
        #expect(recorded.stderr.contains("--ignore '$[*].output.domain'"))
        // The warning is true: the same code replays that event as changed, and only that one.
        let replayed = try sluice(["replay", root.path + "/rec", "--transformation", root.path + "/t.js", "--isolation", "in-process"])
        #expect(replayed.status == 1)
        #expect(replayed.stdout.contains("changed        1") && replayed.stdout.contains("unchanged      2"), "\(replayed.stdout)")
        // Without a path that feeds the output, no warning.
        let quiet = try sluice(["record", root.path + "/in.ndjson", "--transformation", root.path + "/t.js", "--output", root.path + "/quiet",
                                "--redact", "$.nothing", "--isolation", "in-process"])
        #expect(quiet.status == 0 && !quiet.stderr.contains("warning"), "\(quiet.stderr)")
    }

    @Test func replayReadsAFolderAndReportsJSONObjectsByEvent() throws {
        let root = try folder(["t.js": Self.hashing, "candidate.js": "export function transformEvent(e) { e.domain = 'x'; return e; }", "in.ndjson": Self.input])
        defer { try? FileManager.default.removeItem(at: root) }
        let recorded = try sluice(["record", root.path + "/in.ndjson", "--transformation", root.path + "/t.js", "--output", root.path + "/rec",
                                   "--max-file-mb", "1", "--isolation", "in-process"])
        #expect(recorded.status == 0, "\(recorded.stderr)")
        let replayed = try sluice(["replay", root.path + "/rec", "--transformation", root.path + "/candidate.js", "--json", "--isolation", "in-process"])
        #expect(replayed.status == 1)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(replayed.stdout.utf8)) as? [String: Any], "\(replayed.stdout)")
        #expect(report["events"] as? Int == 3 && report["changed"] as? Int == 2 && report["newlyProduced"] as? Int == 1)
        let examples = try #require(report["examples"] as? [[String: Any]])
        let first = try #require(examples.first)
        let event = try #require(first["event"] as? [String: Any])
        #expect(event["file"] as? String == "t-0001.ndjson" && event["line"] as? Int == 1 && event["messageId"] as? String == "m1")
        let difference = try #require((first["differences"] as? [[String: Any]])?.first)
        #expect(difference["path"] as? String == "$[0].output.domain")
        #expect(difference["expected"] as? String == "example.com" && difference["actual"] as? String == "x")
        #expect(examples.contains { $0["kind"] as? String == "newly produced" && ($0["event"] as? [String: Any])?["messageId"] as? String == "m2" })
        let text = try sluice(["replay", root.path + "/rec", "--transformation", root.path + "/candidate.js", "--isolation", "in-process"])
        #expect(text.stdout.contains("newly produced 1"))
        #expect(text.stdout.contains("t-0001.ndjson:2, messageId m2 (newly produced):"), "\(text.stdout)")
        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        let empty = try sluice(["replay", root.path + "/empty", "--transformation", root.path + "/t.js", "--isolation", "in-process"])
        #expect(empty.status != 0 && empty.stderr.contains("no recordings"), "\(empty.stderr)")
    }

    @Test func testReportsNameTheEventAndGiveValuesInJSON() throws {
        let root = try folder([
            "transformations/t/transform.js": "export function transformEvent(e) { e.v = e.v * 2; return e; }",
            "transformations/t/tests/basic/input.json": "[\n  {\"messageId\": \"m1\", \"v\": 1},\n  {\"messageId\": \"m2\", \"v\": 2}\n]\n",
            "transformations/t/tests/basic/expected.ndjson": #"{"output":{"messageId":"m1","v":2},"metadata":{"messageId":"m1"}}"# + "\n"
                + #"{"output":{"messageId":"m2","v":5},"metadata":{"messageId":"m2"}}"# + "\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try sluice(["test", root.path + "/transformations", "--json", root.path + "/report.json", "--isolation", "in-process"])
        #expect(result.status == 1)
        #expect(result.stdout.contains("input line 3, messageId m2:\n      $[1].output.v: 5 → 4"), "\(result.stdout)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: root.appendingPathComponent("report.json"))) as? [String: Any])
        let difference = try #require(((report["cases"] as? [[String: Any]])?.first?["differences"] as? [[String: Any]])?.first)
        #expect(difference["path"] as? String == "$[1].output.v" && difference["expected"] as? Int == 5 && difference["actual"] as? Int == 4)
        #expect((difference["event"] as? [String: Any])?["line"] as? Int == 3)
    }
}
