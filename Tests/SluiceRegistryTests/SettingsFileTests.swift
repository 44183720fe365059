import Foundation
import SluiceCore
@testable import SluiceRegistry
import SluiceTestSupport
import Testing

/// Settings files are strict: a misspelt key, malformed JSON or a value of the wrong type is an
/// error naming the file, the place and the key — never silently ignored.
@Suite struct SettingsFileTests {
    func loadError(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    @Test func anUnknownManifestKeyNamesTheFileThePlaceAndTheClosestKey() throws {
        let root = try folder([
            "t/transform.js": "export function transformEvent(e) { return e; }",
            "t/transformation.json": "{\n  \"name\": \"t\",\n  \"limts\": {\"timeMilliseconds\": 10}\n}\n",
        ])
        #expect(loadError { _ = try TransformationLoader.load(path: root + "/t") }
            == "\(root)/t/transformation.json:3:3: unknown key \"limts\" (did you mean \"limits\"?)")
    }

    @Test func anUnknownKeyInsideLimitsIsNamedByItsPath() throws {
        let root = try folder([
            "t/transform.js": "export function transformEvent(e) { return e; }",
            "t/transformation.json": #"{"limits": {"timeMiliseconds": 10}}"#,
            "u/transform.js": "export function transformEvent(e) { return e; }",
            "u/transformation.json": #"{"limits": {"cpu": 10}}"#,
        ])
        #expect(loadError { _ = try TransformationLoader.load(path: root + "/t") }
            == "\(root)/t/transformation.json:1:13: unknown key \"timeMiliseconds\" in \"limits\" (did you mean \"timeMilliseconds\"?)")
        #expect(loadError { _ = try TransformationLoader.load(path: root + "/u") }
            == "\(root)/u/transformation.json:1:13: unknown key \"cpu\" in \"limits\" (valid keys: memoryMegabytes, timeMilliseconds)")
    }

    @Test func malformedJSONNamesTheLineAndColumn() throws {
        let root = try folder([
            "t/transform.js": "export function transformEvent(e) { return e; }",
            "t/transformation.json": "{\n  \"name\": \"t\",\n  \"entry\": \"transform.js\",\n}\n",
            "u/transform.js": "export function transformEvent(e) { return e; }",
            "u/transformation.json": "{\"name\": \"ü\", \"limits\": {\"timeMilliseconds\": 1",
        ])
        let trailingComma = loadError { _ = try TransformationLoader.load(path: root + "/t") }
        #expect(trailingComma.hasPrefix("\(root)/t/transformation.json:4:1: invalid JSON: "), "\(trailingComma)")
        #expect(loadError { _ = try TransformationLoader.load(path: root + "/u") }
            == "\(root)/u/transformation.json:1:47: invalid JSON: the text ends before the JSON value does")
    }

    @Test func aValueOfTheWrongTypeNamesItsKey() throws {
        let root = try folder([
            "t/transform.js": "export function transformEvent(e) { return e; }",
            "t/transformation.json": #"{"limits": {"timeMilliseconds": "fast"}}"#,
        ])
        let message = loadError { _ = try TransformationLoader.load(path: root + "/t") }
        #expect(message.hasPrefix("\(root)/t/transformation.json: limits.timeMilliseconds: "), "\(message)")
    }

    @Test func aRepeatedKeyIsAnError() throws {
        let root = try folder([
            "t/transform.js": "export function transformEvent(e) { return e; }",
            "t/transformation.json": #"{"name": "a", "name": "b"}"#,
        ])
        #expect(loadError { _ = try TransformationLoader.load(path: root + "/t") }
            == "\(root)/t/transformation.json:1:15: key \"name\" appears twice")
    }

    @Test func everyShippedManifestIsValid() throws {
        let transformations = PackageRoot.path + "/transformations"
        for name in try FileManager.default.contentsOfDirectory(atPath: transformations)
        where FileManager.default.fileExists(atPath: "\(transformations)/\(name)/transformation.json") {
            _ = try TransformationLoader.load(path: "\(transformations)/\(name)")
        }
    }

    @Test func credentialsKeepTheirJSONTypesAsWritten() throws {
        let root = try folder(["c.json": #"{"key": "k-1", "retries": 3, "ratio": 0.5, "on": true, "none": null, "list": [1, "a"], "deep": {"b": 1, "a": 2}}"#])
        let credentials = try CredentialsFile.load(path: root + "/c.json")
        #expect(credentials == ["key": "k-1", "retries": CredentialValue(json: "3"), "ratio": CredentialValue(json: "0.5"), "on": CredentialValue(json: "true"),
                                "none": CredentialValue(json: "null"), "list": CredentialValue(json: #"[1, "a"]"#), "deep": CredentialValue(json: #"{"b": 1, "a": 2}"#)])
        #expect(credentials["key"]?.text == "k-1" && credentials["retries"]?.text == "3")
    }

    @Test func aCredentialsFileMustBeAnObjectOfValidJSON() throws {
        let root = try folder(["list.json": "[1]", "broken.json": "{\n  \"key\": 'single quotes'\n}", "twice.json": #"{"k": 1, "k": 2}"#])
        #expect(loadError { _ = try CredentialsFile.load(path: root + "/list.json") }
            == "\(root)/list.json:1:1: credentials must be a JSON object of credential key → value")
        #expect(loadError { _ = try CredentialsFile.load(path: root + "/broken.json") }.hasPrefix("\(root)/broken.json:2:10: invalid JSON: "))
        #expect(loadError { _ = try CredentialsFile.load(path: root + "/twice.json") } == "\(root)/twice.json:1:10: credential \"k\" appears twice")
        #expect(loadError { _ = try CredentialsFile.load(path: root + "/missing.json") }.hasPrefix("cannot read \(root)/missing.json: "))
    }

    @Test func suggestionsComeByEditDistanceIgnoringCase() {
        #expect(Wording.editDistance("limts", "limits") == 1)
        #expect(Wording.editDistance("", "abc") == 3)
        #expect(SettingsFile.suggestion(for: "batchsize", among: ["batchSize", "seed"]) == "(did you mean \"batchSize\"?)")
        #expect(SettingsFile.suggestion(for: "zzz", among: ["seed", "now"]) == "(valid keys: now, seed)")
    }
}
