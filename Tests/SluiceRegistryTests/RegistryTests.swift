import Foundation
import SluiceCore
import SluiceJavaScript
import SluicePython
@testable import SluiceRegistry
import SluiceTestSupport
import Testing

/// A fresh temporary folder with the given files (relative path → contents).
func folder(_ files: [String: String]) throws -> String { try TemporaryFolder.create(files, prefix: "sluice-registry") }

/// The shipped languages' knowledge, as the runtime registers it.
let languages = LanguageTable([JavaScriptLanguage(), PythonLanguage()])

func write(_ files: [String: String], under root: String) throws { try TemporaryFolder.write(files, under: root) }

@Suite struct SHA256Tests {
    @Test func knownVectors() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex("abc".utf8) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        #expect(SHA256.hex([UInt8](repeating: 0x61, count: 1000)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

@Suite struct RegistryTests {
    static let transform = #"import { tag } from "tagger"; export function transformEvent(e) { e.t = tag(); return e; }"#

    @Test func versionIdsAddressTheCodeAndTheLibrariesItLinks() throws {
        let root = try folder([
            "t/a/transform.js": Self.transform,
            "t/b/transform.js": "export function transformEvent(e) { return e; }",
            "lib/tagger.js": "export function tag() { return 1; }",
            "lib/other.js": "export const o = 1;",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        func ids() throws -> [String: String] {
            let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
            return Dictionary(uniqueKeysWithValues: registry.live.map { ($0.name, $0.id) })
        }
        let first = try ids()
        #expect(first["a"]?.hasPrefix("sv") == true && first["a"]?.count == 26)
        #expect(try ids() == first, "the same content gives the same ids")

        try write(["lib/other.js": "export const o = 2;"], under: root)
        #expect(try ids() == first, "a library nobody imports changes no version")

        try write(["lib/tagger.js": "export function tag() { return 2; }"], under: root)
        let afterLibrary = try ids()
        #expect(afterLibrary["a"] != first["a"] && afterLibrary["b"] == first["b"])

        try write(["t/b/transform.js": "export function transformEvent(e) { return e; } "], under: root)
        #expect(try ids()["b"] != first["b"])

        try write(["t/b/transformation.json": #"{"limits": {"timeMilliseconds": 50}}"#], under: root)
        let withLimits = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        #expect(withLimits.version("b")?.limits.timeMilliseconds == 50)
        #expect(withLimits.version("b")?.id != afterLibrary["b"])
    }

    /// issue 12, row 7: `"codeVersion": "0"` in transformation.json makes a legacy version, with
    /// an id of its own (that it survives the store is `CatalogTests`' business).
    @Test func aManifestsCodeVersionZeroIsALegacyVersion() throws {
        let code = "function transform(events) { return events; }"
        let root = try folder([
            "legacy/transformation.json": #"{"codeVersion": "0"}"#, "legacy/transform.js": code,
            "current/transformation.json": #"{"codeVersion": "1"}"#, "current/transform.js": code,
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let legacy = try TransformationLoader.load(path: root + "/legacy")
        #expect(legacy.source.codeVersion == .legacy)
        #expect(try TransformationLoader.load(path: root + "/current").source.codeVersion == .current)
        let version = TransformationVersion(source: legacy.source, libraries: [], origin: "test")
        var current = legacy.source
        current.codeVersion = .current
        #expect(version.id != TransformationVersion(source: current, libraries: [], origin: "test").id)

        try write(["legacy/transformation.json": #"{"codeVersion": "2"}"#], under: root)
        #expect(throws: LoadError.self) { try TransformationLoader.load(path: root + "/legacy") }
        let python = try folder(["p/transformation.json": #"{"codeVersion": "0"}"#, "p/transform.py": "def transform(events):\n    return events\n"])
        defer { try? FileManager.default.removeItem(atPath: python) }
        #expect {
            try TransformationLoader.load(path: python + "/p")
        } throws: { error in
            (error as? LoadError)?.message.hasSuffix(#"codeVersion "0" (a legacy transform(events) script) is JavaScript only"#) == true
        }
    }

    @Test func aVersionPinsItsLibrariesCode() throws {
        let root = try folder(["t/a/transform.js": Self.transform, "lib/tagger.js": "export function tag() { return 1; }"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        let version = try #require(registry.version("a"))
        try write(["lib/tagger.js": "export function tag() { return 2; }"], under: root)
        #expect(try version.libraryProvider.library(importName: "tagger", language: .javascript)?.code == "export function tag() { return 1; }")
    }

    @Test func loadsSluiceFoldersAndRudderStackProjectsAndReportsWhatItSkips() throws {
        let root = try folder([
            "t/plain/transform.py": "def transformEvent(event, metadata):\n    return event\n",
            "t/broken/readme.txt": "no code here",
            "t/dup-one/transformation.json": #"{"name": "same"}"#,
            "t/dup-one/transform.js": "export function transformEvent(e) { return e; }",
            "t/dup-two/transformation.json": #"{"name": "same"}"#,
            "t/dup-two/transform.js": "export function transformEvent(e) { return null; }",
            "t/project/tr.yaml": """
            version: rudder/v1
            kind: transformation
            metadata: {name: enrich}
            spec:
              id: enrich
              name: Enrich Events
              language: javascript
              code: |
                import { add } from "addFields";
                export function transformEvent(e) { return add(e); }
            """,
            "t/project/lib.yaml": """
            version: rudder/v1
            kind: transformation-library
            metadata: {name: add-fields}
            spec:
              id: add-fields
              name: Add Fields
              import_name: addFields
              language: javascript
              code: |
                export function add(e) { e.added = true; return e; }
            """,
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        #expect(registry.live.map(\.name) == ["enrich", "plain", "same"])
        let enrich = try #require(registry.version("enrich"))
        #expect(enrich.libraries.map(\.importName) == ["addFields"])
        #expect(enrich.description == "Enrich Events")
        #expect(enrich.origin.hasSuffix("t/project/tr.yaml"))
        #expect(registry.version(enrich.id)?.name == "enrich")
        #expect(registry.version("same")?.origin.hasSuffix("dup-one") == true)
        #expect(registry.problems.count == 2)
        #expect(registry.problems.contains { $0.contains("broken") && $0.contains("no transformation found") })
        #expect(registry.problems.contains { $0.contains("dup-two") && $0.contains("the name same is already taken") })
        #expect(throws: LoadError.self) { try Registry(transformationsRoot: root + "/nothing", librariesRoot: root + "/lib", languages: languages) }
    }

    @Test func aChangedFileIsANewVersionAndTheOldIdStillResolves() throws {
        let root = try folder(["t/a/transform.js": Self.transform, "lib/tagger.js": "export function tag() { return 1; }"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        let old = try #require(registry.version("a"))
        #expect(registry.reloadIfChanged().isEmpty)

        try write(["lib/tagger.js": "export function tag() { return 22; }"], under: root)
        let change = registry.reloadIfChanged()
        #expect(change.updated == ["a"])
        let new = try #require(registry.version("a"))
        #expect(new.id != old.id && change.versionIDs["a"] == new.id)
        #expect(registry.version(old.id)?.libraries.first?.code == "export function tag() { return 1; }")

        try write(["t/b/transform.js": "export function transformEvent(e) { return e; }"], under: root)
        try FileManager.default.removeItem(atPath: root + "/t/a")
        let second = registry.reloadIfChanged()
        #expect(second.updated == ["b"] && second.removed == ["a"])
        #expect(registry.version("a") == nil)
        #expect(registry.version(new.id)?.name == "a", "versions stay resolvable by id")
    }

    @Test func theWatcherPicksUpAChangeWithoutBeingAsked() async throws {
        let root = try folder(["t/a/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        let old = try #require(registry.version("a")).id
        registry.startWatching(every: .milliseconds(20))
        defer { registry.stopWatching() }
        try write(["t/a/transform.js": "export function transformEvent(e) { e.x = 1; return e; }"], under: root)
        let deadline = ContinuousClock.now + .seconds(10)
        while registry.version("a")?.id == old && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        #expect(registry.version("a")?.id != old)
    }
}

/// Hot reload keeps the last good version live: a changed file that fails the check (the
/// service's: it compiles), or a folder that stops loading, is a reload error until it is fixed.
@Suite struct ReloadErrorTests {
    /// A stand-in for compiling: code containing `BROKEN` does not compile, naming its file.
    static let check: Registry.VersionCheck = { version in
        version.source.code.contains("BROKEN") ? "SyntaxError: Unexpected identifier 'BROKEN' at \(version.source.fileName):1:1" : nil
    }

    @Test func aChangeThatDoesNotCompileKeepsTheLastGoodVersionUntilItIsFixed() throws {
        let root = try folder(["t/a/transform.js": "export function transformEvent(e) { e.v = 1; return e; }", "lib/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        registry.checkNewVersions(with: Self.check)
        let good = try #require(registry.version("a"))

        try write(["t/a/transform.js": "export function transformEvent(e) { BROKEN }"], under: root)
        let broken = registry.reload()
        #expect(broken.updated.isEmpty, "nothing new went live")
        #expect(registry.version("a")?.id == good.id)
        let error = try #require(registry.reloadErrors.first)
        #expect(registry.reloadErrors.count == 1)
        #expect(error.transformation == "a" && error.file == root + "/t/a/transform.js" && error.serving == good.id)
        #expect(error.error.contains("BROKEN") && error.error.contains("transform.js:1:1"))
        #expect(broken.newErrors == [error])

        // Another reload (another file changed) keeps the error and when it began.
        try write(["t/b/transform.js": "export function transformEvent(e) { return e; }"], under: root)
        let again = registry.reload()
        #expect(again.newErrors.isEmpty && registry.reloadErrors == [error] && registry.version("a")?.id == good.id)

        try write(["t/a/transform.js": "export function transformEvent(e) { e.v = 2; return e; }"], under: root)
        let fixed = registry.reload()
        #expect(fixed.updated == ["a"] && fixed.clearedErrors == ["a"])
        #expect(registry.reloadErrors.isEmpty)
        #expect(registry.version("a")?.source.code.contains("e.v = 2") == true)
    }

    @Test func aFolderThatStopsLoadingKeepsServingItsLastVersion() throws {
        let root = try folder(["t/a/transform.js": "export function transformEvent(e) { return e; }", "lib/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        registry.checkNewVersions(with: Self.check)
        let good = try #require(registry.version("a"))
        try write(["t/a/transformation.json": #"{"language": "cobol"}"#], under: root)
        let change = registry.reload()
        #expect(change.removed.isEmpty && registry.version("a")?.id == good.id)
        let error = try #require(registry.reloadErrors.first)
        #expect(error.file == root + "/t/a/transformation.json" && error.error.contains("unknown language") && error.serving == good.id)
        try FileManager.default.removeItem(atPath: root + "/t/a/transformation.json")
        #expect(registry.reload().clearedErrors == ["a"] && registry.reloadErrors.isEmpty)
    }

    @Test func aVersionThatFailsWithNothingToKeepIsServedAndListed() throws {
        let root = try folder(["t/a/transform.js": "export function transformEvent(e) { BROKEN }", "lib/.keep": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        registry.checkNewVersions(with: Self.check)
        let change = registry.checkLive()
        #expect(change.newErrors.map(\.transformation) == ["a"] && change.newErrors.first?.serving == nil)
        #expect(registry.version("a") != nil, "with nothing better, requests get its compile error")
        // Still broken after an unrelated reload; cleared once fixed.
        try write(["t/b/transform.js": "export function transformEvent(e) { return e; }"], under: root)
        registry.reload()
        #expect(registry.reloadErrors.map(\.transformation) == ["a"])
        try write(["t/a/transform.js": "export function transformEvent(e) { return e; }"], under: root)
        #expect(registry.reload().clearedErrors == ["a"])
    }
}
