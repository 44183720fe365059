import Foundation
import SluiceCore
import SluiceRuntime
@testable import SluiceTesting
import Testing

/// Diffs name the event they are in (input line and messageId); JSON reports carry values.
@Suite struct EventNamingTests {
    @Test func aSnapshotDifferenceNamesTheInputLineAndMessageId() throws {
        let input = """
        [
          {"messageId": "m1", "v": 1},
          {"messageId": "m2", "v": 2}
        ]
        """
        let expected = #"{"output":{"messageId":"m1","v":1,"seen":true},"metadata":{"messageId":"m1"}}"# + "\n"
            + #"{"output":{"messageId":"m2","v":5,"seen":true},"metadata":{"messageId":"m2"}}"# + "\n"
        let (_, folder) = try project(input: input, expected: expected)
        let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .failed)
        let difference = try #require(report.differences.first)
        #expect(difference.description == "$[1].output.v: 5 → 2")
        #expect(difference.event == EventReference(line: 3, messageId: "m2"))
        let text = Reports.text(report, colour: false)
        #expect(text.contains("    input line 3, messageId m2:\n      $[1].output.v: 5 → 2"), "\(text)")
        // JSON reports give the values themselves, with the event.
        let document = try #require(try JSONSerialization.jsonObject(with: try Reports.json([report])) as? [String: Any])
        let differences = try #require(((document["cases"] as? [[String: Any]])?.first?["differences"]) as? [[String: Any]])
        #expect(differences.first?["path"] as? String == "$[1].output.v")
        #expect(differences.first?["expected"] as? Int == 5 && differences.first?["actual"] as? Int == 2)
        let event = differences.first?["event"] as? [String: Any]
        #expect(event?["line"] as? Int == 3 && event?["messageId"] as? String == "m2")
        #expect(Reports.junit([report]).contains("input line 3, messageId m2: $[1].output.v: 5 → 2"))
    }

    @Test func jsonDifferencesKeepFullValuesAndLeaveOutAMissingSide() {
        let long = String(repeating: "x", count: 300)
        let differences = JSONDiff.differences(expected: ["a": ["k": 1], "gone": true] as [String: Any], actual: ["a": long, "new": NSNull()] as [String: Any])
        let objects = differences.map(\.jsonObject)
        #expect(objects.first { $0["path"] as? String == "$.a" }?["actual"] as? String == long, "not shortened")
        #expect(objects.first { $0["path"] as? String == "$.a" }?["expected"] as? [String: Int] == ["k": 1])
        let gone = objects.first { $0["path"] as? String == "$.gone" }
        #expect(gone?["expected"] as? Bool == true && gone?["actual"] == nil)
        let added = objects.first { $0["path"] as? String == "$.new" }
        #expect(added?["actual"] is NSNull && added?["expected"] == nil)
        #expect(differences.first { $0.path == "$.a" }?.description.count ?? 0 < 300, "text reports stay short")
    }
}

@Suite struct ReplayCategoryTests {
    static let inputs = [#"{"messageId":"a","v":1}"#, #"{"messageId":"b","v":2}"#, #"{"messageId":"c","v":3}"#]

    @Test func wasDroppedNowOutputIsNewlyProducedAndExamplesNameTheEvent() throws {
        let files = try record(Self.inputs, code: "export function transformEvent(e) { return e.v === 2 ? null : e; }")
        let runtime = Runtime(libraries: NoLibraries())
        let summary = try Replayer(runtime: runtime, candidate: try compile("export function transformEvent(e) { e.v += 10; return e; }", runtime: runtime),
                                   options: Replayer.Options()).replay(files: files)
        #expect(summary.newlyProduced == 1 && summary.changed == 2 && summary.newlyDropped == 0 && summary.differs)
        let produced = try #require(summary.examples.first { $0.kind == "newly produced" })
        #expect(produced.event == EventReference(line: 2, messageId: "b", file: "t-0001.ndjson"))
        #expect(produced.location == "t-0001.ndjson:2")
        let text = ReplayReport.text(summary)
        #expect(text.contains("newly produced 1"))
        #expect(text.contains("t-0001.ndjson:2, messageId b (newly produced):"), "\(text)")
        let document = try #require(try JSONSerialization.jsonObject(with: try ReplayReport.json(summary)) as? [String: Any])
        #expect(document["newlyProduced"] as? Int == 1)
        let first = try #require((document["examples"] as? [[String: Any]])?.first)
        let event = first["event"] as? [String: Any]
        #expect(event?["file"] as? String == "t-0001.ndjson" && event?["line"] as? Int == 1 && event?["messageId"] as? String == "a")
        let difference = try #require((first["differences"] as? [[String: Any]])?.first)
        #expect(difference["path"] as? String == "$[0].output.v")
        #expect(difference["expected"] as? Int == 1 && difference["actual"] as? Int == 11)
    }

    @Test func aFolderMeansEveryRecordingInIt() throws {
        let files = try record(Self.inputs, code: "export function transformEvent(e) { return e; }") { $0.maximumFileBytes = 40 }
        #expect(files.count == 3)
        let folder = (files[0] as NSString).deletingLastPathComponent
        try Data("not a recording".utf8).write(to: URL(fileURLWithPath: folder + "/notes.txt"))
        #expect(try Replayer.recordingFiles([folder]) == files)
        #expect(try Replayer.recordingFiles([files[1]]) == [files[1]])
        let empty = temporaryFolder()
        #expect(throws: (any Error).self) { try Replayer.recordingFiles([empty]) }
        #expect(throws: (any Error).self) { try Replayer.recordingFiles([empty + "/missing"]) }
        let runtime = Runtime(libraries: NoLibraries())
        let summary = try Replayer(runtime: runtime, candidate: try compile("export function transformEvent(e) { return e; }", runtime: runtime),
                                   options: Replayer.Options()).replay(files: try Replayer.recordingFiles([folder]))
        #expect(summary.events == 3 && summary.unchanged == 3)
    }

    /// Redaction that feeds the output is found when recording: the check runs what replay will.
    @Test func theRedactionCheckFindsEventsWhoseOutputARedactedValueFeeds() throws {
        let code = "export function transformEvent(e) { e.domain = (e.email || '').split('@')[1] || null; return e; }"
        let runtime = Runtime(libraries: NoLibraries())
        let transformation = try compile(code, runtime: runtime)
        var options = RecordingWriter.Options(directory: temporaryFolder(), name: "t")
        options.redact = ["$.email"]
        let items = [#"{"messageId":"a","email":"ann@example.com"}"#, #"{"messageId":"b"}"#].map { Array($0.utf8) }
        let real = runtime.run(transformation, batch: Batch(items: items), limits: .defaults)
        let recordedInputs = try items.map { try RecordingWriter.recordedInput($0, options: options) }
        #expect(String(decoding: recordedInputs[0], as: UTF8.self).contains("[redacted]"))
        let replayed = runtime.run(transformation, batch: Batch(items: recordedInputs), limits: .defaults)
        var check = RedactionCheck(paths: options.redact)
        for index in items.indices {
            let recorded = try real.results.filter { $0.inputIndex == index }.map { try RecordingWriter.recordedResult($0, options: options) }
            check.add(recorded: recorded, fromRecordedInput: replayed.results.filter { $0.inputIndex == index },
                      event: EventReference(line: index + 1, messageId: EventReference.messageId(ofInput: items[index])))
        }
        #expect(check.checked == 2 && check.affected == 1)
        let warning = try #require(check.warning)
        #expect(warning.contains("1 of 2 recorded events") && warning.contains("--redact $.email"))
        #expect(warning.contains("input line 1, messageId a: $[0].output.domain: \"example.com\" → null"), "\(warning)")
        #expect(warning.contains("--ignore '$[*].output.domain'"))
        var clean = RedactionCheck(paths: ["$.email"])
        clean.add(recorded: [Array(#"{"dropped":true,"metadata":{}}"#.utf8)], fromRecordedInput: [EventResult(inputIndex: 0, outcome: .dropped, metadata: Array("{}".utf8))],
                  event: EventReference(line: 1, messageId: nil))
        #expect(clean.warning == nil)
    }
}
