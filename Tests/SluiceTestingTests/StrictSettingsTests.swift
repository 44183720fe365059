import Foundation
import SluiceRegistry
import SluiceRuntime
@testable import SluiceTesting
import Testing

/// `case.json` and RudderStack project files are strict: a misspelt key is an error naming the
/// key, the file and the closest valid key; credentials keep their JSON types.
@Suite struct StrictCaseSettingsTests {
    func report(settings: String, transformation: String = "export function transformEvent(e) { return e; }") throws -> CaseReport {
        let (_, folder) = try project(transformation: transformation, expected: "", settings: settings)
        return SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
    }

    @Test func anUnknownCaseKeyIsAnErrorNamingTheClosestKey() throws {
        let (_, folder) = try project(expected: "", settings: "{\n  \"credentails\": {\"k\": \"v\"}\n}")
        let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .error)
        #expect(report.message == "\(folder)/case.json:2:3: unknown key \"credentails\" (did you mean \"credentials\"?)")
    }

    @Test func unknownKeysInsideLimitsAndFetchResponsesAreErrorsToo() throws {
        let limits = try report(settings: #"{"limits": {"memoryMegabyte": 64}}"#)
        #expect(limits.message?.hasSuffix(#":1:13: unknown key "memoryMegabyte" in "limits" (did you mean "memoryMegabytes"?)"#) == true, "\(limits.message ?? "")")
        let fetch = try report(settings: #"{"fetch": {"https://x.test/a": {"statusCode": 200, "body": {}}}}"#)
        #expect(fetch.message?.hasSuffix(#":1:33: unknown key "statusCode" in "fetch.https://x.test/a" (did you mean "status"?)"#) == true, "\(fetch.message ?? "")")
    }

    @Test func malformedCaseJSONNamesTheLineAndColumn() throws {
        let report = try report(settings: "{\n  \"batchSize\": 2\n  \"seed\": 1\n}")
        #expect(report.status == .error)
        #expect(report.message?.contains("/case.json:3:3: invalid JSON: expected ',' or '}'") == true, "\(report.message ?? "")")
    }

    @Test func credentialsKeepTheirJSONTypes() throws {
        let (_, folder) = try project(
            transformation: "export function transformEvent(e) { return {n: getCredential('n'), t: typeof getCredential('n'), on: getCredential('on'), s: getCredential('s'), o: getCredential('o')}; }",
            expected: #"{"output":{"n":3,"t":"number","on":false,"s":"3","o":{"a":[1]}},"metadata":{"messageId":"m1"}}"# + "\n",
            settings: #"{"credentials": {"n": 3, "on": false, "s": "3", "o": {"a": [1]}}}"#
        )
        let report = SnapshotRunner().run(try CaseDiscovery.cases(in: [folder])[0])
        #expect(report.status == .passed, "\(report.differences.map(\.description)) \(report.message ?? "")")
    }
}

@Suite struct StrictRudderProjectTests {
    func loadError(_ files: [String: String]) throws -> String {
        let root = try rudderProject(files)
        do {
            _ = try RudderProject.load(root)
            return "no error"
        } catch {
            return "\(error)".replacingOccurrences(of: root + "/", with: "")
        }
    }

    @Test func anUnknownSpecKeyNamesTheFileAndTheClosestKey() throws {
        let misspelt = transformationSpec.replacingOccurrences(of: "  language: javascript", with: "  langauge: javascript\n  language: javascript")
        #expect(try loadError(["t.yaml": misspelt, "js/tagger.js": "x"]) == #"t.yaml: unknown key "spec.langauge" (did you mean "language"?)"#)
        let library = librarySpec.replacingOccurrences(of: "  import_name: myTags", with: "  importName: myTags")
        #expect(try loadError(["lib.yaml": library]) == #"lib.yaml: unknown key "spec.importName" (did you mean "import_name"?)"#)
    }

    @Test func unknownKeysOfTheDocumentItsMetadataAndItsTestsAreErrors() throws {
        #expect(try loadError(["t.yaml": transformationSpec + "\nspecs: {}\n", "js/tagger.js": "x"])
            == #"t.yaml: unknown key "specs" (did you mean "spec"?)"#)
        let metadata = transformationSpec.replacingOccurrences(of: "  name: tagger\n", with: "  name: tagger\n  labels: {a: b}\n")
        #expect(try loadError(["t.yaml": metadata, "js/tagger.js": "x"]) == #"t.yaml: unknown key "metadata.labels" (valid keys: import, name)"#)
        let tests = transformationSpec.replacingOccurrences(of: "      output: tests/output", with: "      outputs: tests/output")
        #expect(try loadError(["t.yaml": tests, "js/tagger.js": "x"]) == #"t.yaml: unknown key "spec.tests[0].outputs" (did you mean "output"?)"#)
    }

    @Test func otherKindsOfResourcesAreNotChecked() throws {
        let other = "version: rudder/v1\nkind: tracking-plan\nmetadata: {name: p}\nspec: {anything: goes}\n"
        #expect(try loadError(["plan.yaml": other, "t.yaml": transformationSpec, "js/tagger.js": "x"]) == "no error")
    }
}
