import Foundation
import SluiceRegistry
import SluiceRuntime
@testable import SluiceTesting
import Testing
import SluiceTestSupport

/// A RudderStack CLI project in a temporary folder.
func rudderProject(_ files: [String: String]) throws -> String {
    let root = URL(fileURLWithPath: TemporaryFolder.path("sluice-rudder"))
    for (path, contents) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }
    return root.path
}

let transformationSpec = """
version: rudder/v1
kind: transformation
metadata:
  name: tagger
spec:
  id: tagger
  name: Tagger
  language: javascript
  file: js/tagger.js
  tests:
    - name: basic
      input: tests/input
      output: tests/output
"""

let librarySpec = """
version: rudder/v1
kind: transformation-library
metadata:
  name: tags
spec:
  id: tags
  name: my tags
  language: javascript
  code: |
    export const tag = (event) => ({ ...event, tagged: true });
  import_name: myTags
"""

@Suite struct RudderProjectTests {
    @Test func readsTransformationsLibrariesAndTestSuites() throws {
        let root = try rudderProject([
            "t.yaml": transformationSpec, "lib.yml": librarySpec,
            "js/tagger.js": "import { tag } from \"myTags\";\nexport function transformEvent(e) { return tag(e); }",
            "notes.yaml": "unrelated: true",
        ])
        let project = try RudderProject.load(root)
        #expect(project.transformations.map(\.id) == ["tagger"])
        #expect(project.transformations[0].source.fileName == "tagger.js")
        #expect(project.transformations[0].tests.map(\.name) == ["basic"])
        #expect(project.transformations[0].tests[0].inputDirectory.hasSuffix("/tests/input"))
        #expect(project.libraries.map(\.importName) == ["myTags"])
        #expect(project.libraries[0].fileName == "myTags.js")
    }

    @Test func importNamesMustBeTheCamelCaseOfTheName() throws {
        #expect(RudderProject.camelCase("Get Finance Data") == "getFinanceData")
        #expect(RudderProject.camelCase("my python library") == "myPythonLibrary")
        let root = try rudderProject(["lib.yaml": librarySpec.replacingOccurrences(of: "import_name: myTags", with: "import_name: tags")])
        #expect(throws: LoadError.self) { try RudderProject.load(root) }
    }

    @Test func codeAndFileAreMutuallyExclusive() throws {
        let both = transformationSpec.replacingOccurrences(of: "  file: js/tagger.js", with: "  file: js/tagger.js\n  code: x")
        let root = try rudderProject(["t.yaml": both, "js/tagger.js": "x"])
        do {
            _ = try RudderProject.load(root)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("spec.code and spec.file are mutually exclusive"))
        }
    }

    @Test func casesCompareWithSameNamedOutputFiles() throws {
        let root = try rudderProject([
            "t.yaml": transformationSpec, "lib.yaml": librarySpec,
            "js/tagger.js": "import { tag } from \"myTags\";\nexport function transformEvent(e) { return e.drop ? null : tag(e); }",
            "tests/input/a.json": #"{"type":"track","v":1}"#,
            "tests/output/a.json": #"{"v":1,"type":"track","tagged":true}"#,
            "tests/input/b.json": #"{"type":"track","v":2}"#,
            "tests/output/b.json": #"{"type":"track","v":3,"tagged":true}"#,
            "tests/input/c.json": #"[{"drop":true},{"v":4}]"#,
            "tests/input/d.json": #"{"drop":true}"#,
            "tests/output/d.json": "null",
        ])
        let cases = try RudderCase.discover(in: [root])
        #expect(cases.map(\.id) == ["tagger/basic/a.json", "tagger/basic/b.json", "tagger/basic/c.json", "tagger/basic/d.json"])
        let reports = cases.map { SnapshotRunner().run($0) }
        #expect(reports.map(\.status) == [.passed, .failed, .passed, .passed])
        #expect(reports[1].differences.map(\.description) == ["$.v: 3 → 2"])
        #expect(reports[2].message == "no expected output: ran without error, not compared")
        let updated = SnapshotRunner(update: true).run(cases[2])
        #expect(updated.status == .updated)
        let written = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: cases[2].outputPath))) as? [[String: Any]]
        #expect(written?.count == 1)
        #expect(written?.first?["tagged"] as? Bool == true)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
