import Foundation
import FoundationXML
import SluiceRegistry
import SluiceRuntime
import SluiceTesting
import Testing
import SluiceTestSupport

func json(_ text: String) -> Any {
    try! JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
}

@Suite struct JSONDiffTests {
    @Test func namesEveryKindOfDifferenceByPath() {
        let differences = JSONDiff.differences(
            expected: json(#"[{"properties":{"total":10,"gone":true},"list":[1,2,3]}, {"a":1}]"#),
            actual: json(#"[{"properties":{"total":12,"extra":"x"},"list":[1,2]}, {"a":1}, {"b":2}]"#)
        ).map(\.description)
        #expect(differences == [
            "$[0].list[2]: missing",
            "+ $[0].properties.extra = \"x\"",
            "$[0].properties.gone: missing",
            "$[0].properties.total: 10 → 12",
            #"+ $[2] = {"b":2}"#,
        ])
    }

    @Test func ignoresKeyOrderAndComparesNumbersByValue() {
        #expect(JSONDiff.differences(expected: json(#"{"a":1,"b":{"c":2.0,"d":[true,null]}}"#),
                                     actual: json(#"{"b":{"d":[true,null],"c":2},"a":1.0}"#)).isEmpty)
    }

    @Test func booleansAreNotNumbers() {
        #expect(JSONDiff.differences(expected: json(#"{"a":true}"#), actual: json(#"{"a":1}"#)).map(\.description) == ["$.a: true → 1"])
    }

    @Test func ignorePathsWithWildcards() {
        let expected = json(#"[{"output":{"at":"x","v":1}},{"output":{"at":"y","v":2}}]"#)
        let actual = json(#"[{"output":{"at":"1","v":1}},{"output":{"at":"2","v":3}}]"#)
        #expect(JSONDiff.differences(expected: expected, actual: actual, ignore: ["$[*].output.at"]).map(\.description)
            == ["$[1].output.v: 2 → 3"])
        #expect(JSONDiff.differences(expected: expected, actual: actual, ignore: ["$[*].output.*"]).isEmpty)
    }

    @Test func oddKeysAreQuotedInPaths() {
        #expect(JSONDiff.differences(expected: json(#"{"a b":1}"#), actual: json(#"{"a b":2}"#)).map(\.description)
            == [#"$["a b"]: 1 → 2"#])
    }
}

/// A temporary transformation with one case.
func project(transformation: String = "export function transformEvent(e) { e.seen = true; return e; }",
             input: String = #"[{"messageId":"m1","v":1}]"#, expected: String? = nil, settings: String? = nil) throws -> (root: URL, caseFolder: String) {
    let root = URL(fileURLWithPath: TemporaryFolder.path("sluice-harness"))
    let caseFolder = root.appendingPathComponent("transformations/t/tests/basic")
    try FileManager.default.createDirectory(at: caseFolder, withIntermediateDirectories: true)
    try Data(transformation.utf8).write(to: root.appendingPathComponent("transformations/t/transform.js"))
    try Data(input.utf8).write(to: caseFolder.appendingPathComponent("input.json"))
    if let expected { try Data(expected.utf8).write(to: caseFolder.appendingPathComponent("expected.ndjson")) }
    if let settings { try Data(settings.utf8).write(to: caseFolder.appendingPathComponent("case.json")) }
    return (root, caseFolder.path)
}

@Suite struct SnapshotRunnerTests {
    @Test func aMatchingCasePasses() throws {
        let (root, _) = try project(expected: #"{"output":{"messageId":"m1","v":1,"seen":true},"metadata":{"messageId":"m1"}}"# + "\n")
        let cases = try CaseDiscovery.cases(in: [root.appendingPathComponent("transformations").path])
        #expect(cases.map(\.id) == ["t/basic"])
        let report = SnapshotRunner().run(cases[0])
        #expect(report.status == .passed)
        #expect(!report.isFailure)
    }

    @Test func theManifestCanNameTheCasesFolder() throws {
        let (root, folder) = try project(expected: #"{"output":{"messageId":"m1","v":1,"seen":true},"metadata":{"messageId":"m1"}}"# + "\n")
        let transformation = root.appendingPathComponent("transformations/t")
        try FileManager.default.moveItem(atPath: transformation.path + "/tests", toPath: transformation.path + "/snapshots")
        #expect(try CaseDiscovery.cases(in: [transformation.path]).isEmpty)
        try Data(#"{"tests": "snapshots"}"#.utf8).write(to: transformation.appendingPathComponent("transformation.json"))
        #expect(try CaseDiscovery.cases(in: [transformation.path]).map(\.id) == ["t/basic"])
        #expect(try CaseDiscovery.cases(in: [root.appendingPathComponent("transformations").path]).map(\.id) == ["t/basic"])
        #expect(SnapshotRunner().run(try CaseDiscovery.cases(in: [transformation.path])[0]).status == .passed)
        _ = folder
        try Data(#"{"tests": "../elsewhere"}"#.utf8).write(to: transformation.appendingPathComponent("transformation.json"))
        #expect(throws: LoadError.self) { try TransformationLoader.load(path: transformation.path) }
    }

    @Test func aMissingExpectationIsRecordedAndFails() throws {
        let (_, folder) = try project()
        let cases = try CaseDiscovery.cases(in: [folder])
        let report = SnapshotRunner().run(cases[0])
        #expect(report.status == .recorded)
        #expect(report.isFailure)
        let recorded = try String(contentsOfFile: folder + "/expected.ndjson", encoding: .utf8)
        #expect(recorded == #"{"output":{"messageId":"m1","v":1,"seen":true},"metadata":{"messageId":"m1"}}"# + "\n")
        #expect(SnapshotRunner().run(cases[0]).status == .passed)
    }

    @Test func inCINothingIsRecorded() throws {
        let (_, folder) = try project()
        let report = SnapshotRunner(recordMissing: false).run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .error)
        #expect(!FileManager.default.fileExists(atPath: folder + "/expected.ndjson"))
    }

    @Test func aDifferenceFailsAndUpdateRewritesIt() throws {
        let (_, folder) = try project(expected: #"{"output":{"messageId":"m1","v":2,"seen":true},"metadata":{"messageId":"m1"}}"# + "\n")
        let snapshot = try CaseDiscovery.cases(in: [folder])[0]
        let failed = SnapshotRunner().run(snapshot)
        #expect(failed.status == .failed)
        #expect(failed.differences.map(\.description) == ["$[0].output.v: 2 → 1"])
        let updated = SnapshotRunner(update: true).run(snapshot)
        #expect(updated.status == .updated)
        #expect(SnapshotRunner().run(snapshot).status == .passed)
    }

    static let throwing = "export function transformEvent(e) { if (e.v === 2) throw new Error('no'); return e; }"
    static let twoEvents = #"[{"messageId":"m1","v":1},{"messageId":"m2","v":2}]"#
    static let firstLine = #"{"output":{"messageId":"m1","v":1},"metadata":{"messageId":"m1"}}"#

    @Test func errorLinesCarryTheirKindAndAnotherKindFailsTheCase() throws {
        let recordedProject = try project(transformation: Self.throwing, input: Self.twoEvents)
        let snapshot = try CaseDiscovery.cases(in: [recordedProject.caseFolder])[0]
        #expect(SnapshotRunner().run(snapshot).status == .recorded)
        let recorded = try String(contentsOfFile: snapshot.expectedPath, encoding: .utf8)
        #expect(recorded.split(separator: "\n").last
            == #"{"error":"Error: no\n    at transformEvent (transform.js:1:67)","kind":"exception","metadata":{"messageId":"m2"}}"#)
        #expect(SnapshotRunner().run(snapshot).status == .passed)

        let otherKind = recorded.replacingOccurrences(of: #""kind":"exception""#, with: #""kind":"time_limit""#)
        let (_, folder) = try project(transformation: Self.throwing, input: Self.twoEvents, expected: otherKind)
        let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .failed)
        #expect(report.differences.map(\.description) == [#"$[1].kind: "time_limit" → "exception""#])
        #expect(report.message == nil)
        #expect(report.outcomes?.summary == "2 events → 1 output, 0 dropped, 1 failed (1 exception)")
    }

    @Test func anExpectationWithoutKindsFailsSayingHowToMigrate() throws {
        let old = Self.firstLine + "\n" + #"{"error":"Error: no\n    at transformEvent (transform.js:1:67)","metadata":{"messageId":"m2"}}"# + "\n"
        let (_, folder) = try project(transformation: Self.throwing, input: Self.twoEvents, expected: old)
        let snapshot = try CaseDiscovery.cases(in: [folder])[0]
        let report = SnapshotRunner().run(snapshot)
        #expect(report.status == .failed)
        #expect(report.differences.map(\.description) == [#"+ $[1].kind = "exception""#])
        #expect(report.message == #"1 error line of expected.ndjson has no "kind" (written before result lines carried it): sluice test --update adds it"#)
        #expect(SnapshotRunner(update: true).run(snapshot).status == .updated)
        let migrated = try String(contentsOfFile: snapshot.expectedPath, encoding: .utf8)
        #expect(migrated == old.replacingOccurrences(of: #"1:67)","metadata""#, with: #"1:67)","kind":"exception","metadata""#))
        #expect(SnapshotRunner().run(snapshot).status == .passed)
    }

    @Test func reportsTallyTheCasesEvents() throws {
        let (_, folder) = try project(transformation: Self.throwing, input: Self.twoEvents, expected: Self.firstLine + "\n")
        let failed = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        let (_, passingFolder) = try project(expected: #"{"output":{"messageId":"m1","v":1,"seen":true},"metadata":{"messageId":"m1"}}"# + "\n")
        let passed = SnapshotRunner().run(try CaseDiscovery.cases(in: [passingFolder])[0])
        #expect(failed.message == nil)  // the missing line is a difference, not an expectation without kinds
        #expect(Reports.summary([passed, failed]) == "1 passed, 1 failed; 3 events → 2 outputs, 0 dropped, 1 failed (1 exception)")
        let document = try JSONSerialization.jsonObject(with: try Reports.json([passed, failed])) as? [String: Any]
        #expect(document?["outcomes"] as? [String: Int] == ["events": 3, "output": 2, "dropped": 0, "exception": 1])
        let cases = document?["cases"] as? [[String: Any]]
        #expect(cases?.last?["outcomes"] as? [String: Int] == ["events": 2, "output": 1, "dropped": 0, "exception": 1])
    }

    @Test func caseSettingsIgnorePathsAndCredentials() throws {
        let (_, folder) = try project(
            transformation: "export function transformEvent(e) { return {key: getCredential('k'), at: String(Math.random())}; }",
            expected: #"{"output":{"key":"secret","at":"anything"},"metadata":{"messageId":"m1"}}"# + "\n",
            settings: #"{"ignore": ["$[*].output.at"], "credentials": {"k": "secret"}}"#
        )
        #expect(SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0]).status == .passed)
    }

    @Test func fetchAnswersFromMocksAndAnUnmockedRequestFailsTheCase() throws {
        let code = "export async function transformEvent(e) { const a = await fetch('https://x.test/a'); const b = await fetch('https://x.test/missing'); return {a, b}; }"
        let mocks = #"{"fetch": {"https://x.test/a": {"status": 200, "body": {"v": 1}}}}"#
        let (_, folder) = try project(transformation: code, expected: "", settings: mocks)
        let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .error)
        #expect(report.message == #"unmocked fetch: GET https://x.test/missing (declare the responses under "fetch" in case.json)"#)
        let (_, complete) = try project(
            transformation: "export async function transformEvent(e) { const a = await fetch('https://x.test/a'); const b = await fetch('https://x.test/down'); return {a, b}; }",
            expected: #"{"output":{"a":{"v":1},"b":"ERROR"},"metadata":{"messageId":"m1"}}"# + "\n",
            settings: #"{"fetch": {"https://x.test/a": {"body": {"v": 1}}, "https://x.test/down": {"status": 503}}}"#
        )
        #expect(SnapshotRunner().run(try CaseDiscovery.cases(in: [complete])[0]).status == .passed)
    }

    @Test func malformedFetchMocksAreRejected() throws {
        for (settings, message) in [
            (#"{"fetch": {"https://x.test/a": null}}"#, #"fetch["https://x.test/a"] must be an object"#),
            (#"{"fetch": {"https://x.test/a": {"status": "500"}}}"#, #"fetch["https://x.test/a"].status must be an HTTP status number"#),
            (#"{"fetch": {"https://x.test/a": {"status": 200, "headers": []}}}"#, #"fetch["https://x.test/a"].headers must be an object"#),
        ] {
            let (_, folder) = try project(expected: "", settings: settings)
            let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
            #expect(report.status == .error)
            #expect(report.message?.contains(message) == true, "\(report.message ?? "")")
        }
    }

    @Test func aCompileErrorIsAnError() throws {
        let (_, folder) = try project(transformation: "export function transformEvent(e) { return e +; }", expected: "")
        let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .error)
        #expect(report.message?.contains("SyntaxError: Unexpected token ';'") == true)
    }

    @Test func junitIsWellFormedXMLAndCountsFailures() throws {
        let reports = [
            CaseReport(id: "t/ok", status: .passed),
            CaseReport(id: "t/bad <&>", status: .failed, differences: [JSONDifference(path: "$.a", kind: .changed(expected: "\"<x>\"", actual: "\"&\""))]),
        ]
        let xml = Reports.junit(reports)
        let parser = XMLParser(data: Data(xml.utf8))
        #expect(parser.parse())
        #expect(xml.contains(#"tests="2" failures="1""#))
        #expect(xml.contains("&lt;&amp;&gt;"))
        #expect(Reports.summary(reports) == "1 passed, 1 failed")
        let document = try JSONSerialization.jsonObject(with: try Reports.json(reports)) as? [String: Any]
        #expect(document?["failed"] as? Int == 1)
    }
}
