import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTestSupport
import SluiceTesting
import Testing

/// Which cases a change affects (`sluice test --watch`), and where `sluice test` looks by default.
@Suite struct SnapshotSuiteTests {
    static let project: [String: String] = [
        "transformations/a/transform.js": #"import { up } from "upper"; export function transformEvent(e) { return { ...e, name: up(e.name) }; }"#,
        "transformations/a/tests/one/input.ndjson": #"{"name":"x"}"# + "\n",
        "transformations/a/tests/two/input.ndjson": #"{"name":"y"}"# + "\n",
        "transformations/b/transform.js": #"import { low } from "lower"; export function transformEvent(e) { return { ...e, name: low(e.name) }; }"#,
        "transformations/b/tests/only/input.ndjson": #"{"name":"Z"}"# + "\n",
        "libraries/upper.js": "export const up = (s) => s.toUpperCase();",
        "libraries/lower.js": "export const low = (s) => s.toLowerCase();",
    ]

    func ids(_ cases: [SuiteCase]) -> [String] { cases.map(\.id) }

    func changes(_ root: String, _ paths: String...) -> FolderWatcher.Changes {
        FolderWatcher.Changes(paths: Set(paths.map { root + "/" + $0 }))
    }

    @Test func aChangeAffectsItsCaseItsTransformationsCasesOrTheCasesOfTransformationsImportingALibrary() throws {
        let root = try TemporaryFolder.create(Self.project)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let suite = try SnapshotSuite(paths: [root + "/transformations"])
        #expect(ids(suite.cases) == ["a/one", "a/two", "b/only"])
        let languages = Engines.languages
        // A case's own file: that case.
        #expect(ids(try suite.affected(by: changes(root, "transformations/a/tests/two/input.ndjson"), languages: languages)) == ["a/two"])
        #expect(ids(try suite.affected(by: changes(root, "transformations/a/tests/one/case.json"), languages: languages)) == ["a/one"])
        // The transformation's code: its cases.
        #expect(ids(try suite.affected(by: changes(root, "transformations/a/transform.js"), languages: languages)) == ["a/one", "a/two"])
        // A library: the cases of the transformations importing it.
        #expect(ids(try suite.affected(by: changes(root, "libraries/lower.js"), languages: languages)) == ["b/only"])
        #expect(ids(try suite.affected(by: changes(root, "libraries/upper.js", "transformations/b/tests/only/expected.ndjson"), languages: languages))
                == ["a/one", "a/two", "b/only"])
        // A library nobody imports, an unrelated file: nothing.
        #expect(ids(try suite.affected(by: changes(root, "libraries/unused.js"), languages: languages)).isEmpty)
        #expect(ids(try suite.affected(by: changes(root, "README.md"), languages: languages)).isEmpty)
        // A lost burst: everything.
        #expect(ids(try suite.affected(by: FolderWatcher.Changes(overflowed: true), languages: languages)) == ["a/one", "a/two", "b/only"])
    }

    @Test func aNewImportMakesTheLibraryCountAndANewCaseRuns() throws {
        let root = try TemporaryFolder.create(Self.project)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let suite = try SnapshotSuite(paths: [root + "/transformations"])
        try TemporaryFolder.write([
            "transformations/b/transform.js": #"import { low } from "lower"; import { up } from "upper"; export function transformEvent(e) { return { ...e, name: up(low(e.name)) }; }"#,
        ], under: root)
        #expect(ids(try suite.affected(by: changes(root, "transformations/b/transform.js"), languages: Engines.languages)) == ["b/only"])
        #expect(ids(try suite.affected(by: changes(root, "libraries/upper.js"), languages: Engines.languages)) == ["a/one", "a/two", "b/only"])
        // A new case folder: it runs (and nothing else), and the suite knows it from now on.
        try TemporaryFolder.write(["transformations/b/tests/new/input.ndjson": "{}\n"], under: root)
        #expect(ids(try suite.affected(by: changes(root, "transformations/b/tests/new/input.ndjson", "transformations/b/tests/new"),
                                       languages: Engines.languages)) == ["b/new"])
        #expect(ids(suite.cases) == ["a/one", "a/two", "b/new", "b/only"])
        // A removed case is gone from the suite.
        try FileManager.default.removeItem(atPath: root + "/transformations/a/tests/one")
        #expect(ids(try suite.affected(by: changes(root, "transformations/a/tests/one"), languages: Engines.languages)).isEmpty)
        #expect(ids(suite.cases) == ["a/two", "b/new", "b/only"])
    }

    @Test func anExpectationTheRunnerRecordedIsNotAChange() throws {
        let root = try TemporaryFolder.create(Self.project)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let suite = try SnapshotSuite(paths: [root + "/transformations"], filter: "a/")
        #expect(ids(suite.cases) == ["a/one", "a/two"])
        let reports = suite.cases.map { $0.run(with: SnapshotRunner()) }
        #expect(reports.map(\.status) == [.recorded, .recorded])
        suite.record(reports)
        let recorded = changes(root, "transformations/a/tests/one/expected.ndjson", "transformations/a/tests/two/expected.ndjson")
        #expect(ids(try suite.affected(by: recorded, languages: Engines.languages)).isEmpty)
        // Once: an edit of the same file afterwards is a change.
        #expect(ids(try suite.affected(by: recorded, languages: Engines.languages)) == ["a/one", "a/two"])
        #expect(suite.latestReports.map(\.id) == ["a/one", "a/two"])
    }

    @Test func withoutPathsSluiceTestLooksInTransformationsOrInTheTransformationFolderItIsIn() throws {
        let root = try TemporaryFolder.create(Self.project.merging([
            "elsewhere/notes.txt": "",
            "transformations/c/transformation.json": #"{"entry": "main.js"}"#,
            "transformations/c/main.js": "export function transformEvent(e) { return e; }",
        ]) { $1 })
        defer { try? FileManager.default.removeItem(atPath: root) }
        #expect(SnapshotSuite.defaultPaths(in: root) == ["transformations"])
        #expect(SnapshotSuite.defaultPaths(in: root + "/transformations/a") == ["."])
        #expect(SnapshotSuite.defaultPaths(in: root + "/transformations/a/tests/one") == ["."])
        #expect(SnapshotSuite.defaultPaths(in: root + "/transformations/c") == ["."])  // a manifest, no cases yet
        #expect(SnapshotSuite.defaultPaths(in: root + "/transformations") == ["."])  // a folder of transformations
        #expect(SnapshotSuite.defaultPaths(in: root + "/elsewhere") == ["transformations"])
    }
}

/// `sluice init`'s project: its files, its refusal to overwrite, and its case passing in both languages.
@Suite struct ProjectTemplateTests {
    @Test(arguments: [Language.javascript, .python])
    func theProjectsSampleCasePassesAsWritten(language: Language) throws {
        let root = TemporaryFolder.path("sluice-init")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let template = try ProjectTemplate(language: language, name: "enrich")
        let written = try template.write(into: root)
        let entry = "transform." + language.fileExtension
        #expect(written == ["transformations/enrich/transformation.json", "transformations/enrich/\(entry)",
                            "transformations/enrich/tests/sample/case.json", "transformations/enrich/tests/sample/input.ndjson",
                            "transformations/enrich/tests/sample/expected.ndjson", "libraries/normalize.\(language.fileExtension)",
                            ".gitignore", ".github/workflows/sluice.yml"])
        let manifest = try String(contentsOfFile: root + "/transformations/enrich/transformation.json", encoding: .utf8)
        #expect(manifest.contains(#""name": "enrich""#) && manifest.contains(#""language": "\#(language.rawValue)""#))
        #expect(try String(contentsOfFile: root + "/.github/workflows/sluice.yml", encoding: .utf8).contains("sluice test --junit sluice-junit.xml"))
        let definition = try TransformationLoader.load(path: root + "/transformations/enrich")
        #expect(definition.source.language == language)
        // The expectation is right: the case passes, it is not recorded.
        let suite = try SnapshotSuite(paths: [root + "/transformations"])
        let reports = suite.cases.map { $0.run(with: SnapshotRunner()) }
        #expect(reports.map(\.id) == ["enrich/sample"])
        #expect(reports.map(\.status) == [.passed], "\(reports.map { ($0.message ?? "") + $0.differences.map(\.description).joined(separator: "; ") })")
        #expect(reports.first?.outcomes?.summary == "3 events → 2 outputs, 1 dropped, 0 failed")
    }

    @Test func existingFilesAreNamedAndNothingIsWrittenUnlessOverwriting() throws {
        let root = try TemporaryFolder.create([".gitignore": "mine\n", "libraries/normalize.js": "mine", "README.md": "mine"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let template = try ProjectTemplate(language: .javascript)
        #expect(template.existingFiles(in: root) == ["libraries/normalize.js", ".gitignore"])
        let error = #expect(throws: LoadError.self) { try template.write(into: root) }
        #expect(error?.description == "\(root): 2 files would be overwritten: libraries/normalize.js, .gitignore (--force overwrites them; nothing was written)")
        #expect(!FileManager.default.fileExists(atPath: root + "/transformations"))
        #expect(try String(contentsOfFile: root + "/.gitignore", encoding: .utf8) == "mine\n")
        try template.write(into: root, overwrite: true)
        #expect(try String(contentsOfFile: root + "/.gitignore", encoding: .utf8).contains(".sluice/"))
        #expect(try String(contentsOfFile: root + "/README.md", encoding: .utf8) == "mine")  // not the template's: left alone
    }

    @Test func aNameMustBeAPlainFolderName() {
        for name in ["", ".hidden", "a/b", "../up", "with space"] {
            #expect(throws: LoadError.self) { try ProjectTemplate(language: .python, name: name) }
        }
        #expect((try? ProjectTemplate(language: .python, name: "Order_enrichment-2.v1")) != nil)
    }
}
