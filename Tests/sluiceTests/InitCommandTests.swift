import Foundation
import Testing
import SluiceTestSupport

/// `sluice init` end to end: the real binary scaffolds a project in which `sluice test` passes
/// and `sluice run` gives the sample's expected results.
@Suite struct InitCommand {
    /// The JSON values of NDJSON text, one per line (compared as values: key order and number
    /// spelling are the engine's business).
    static func values(_ text: String) throws -> [NSObject] {
        try text.split(separator: "\n").map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! NSObject }
    }

    @Test(arguments: ["javascript", "python"])
    func aNewProjectsTestsPassAndItsSampleRuns(language: String) throws {
        let root = URL(fileURLWithPath: TemporaryFolder.path("sluice-init"))
        defer { try? FileManager.default.removeItem(at: root) }
        let created = try sluice(["init", root.path, "--language", language])
        #expect(created.status == 0, "\(created.stderr)")
        let entry = language == "javascript" ? "transform.js" : "transform.py"
        #expect(created.stdout.contains("  transformations/my-transformation/\(entry)\n"))
        #expect(created.stdout.contains("  sluice test\n"))
        for path in ["transformations/my-transformation/transformation.json", "transformations/my-transformation/tests/sample/expected.ndjson",
                     "libraries/normalize.\(language == "javascript" ? "js" : "py")", ".gitignore", ".github/workflows/sluice.yml"] {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "\(path)")
        }

        // CI set: a missing expectation would fail rather than be recorded — the case passes as written.
        let tested = try sluice(["test"], directory: root, environment: ["CI": "true"])
        #expect(tested.status == 0, "\(tested.stdout)\(tested.stderr)")
        #expect(tested.lines == ["✓ my-transformation/sample", "1 passed, 0 failed; 3 events → 2 outputs, 1 dropped, 0 failed"])
        let junit = root.appendingPathComponent("report.xml").path
        #expect(try sluice(["test", "--junit", junit], directory: root, environment: ["CI": "true"]).status == 0)
        #expect(try String(contentsOfFile: junit, encoding: .utf8).contains(#"<testcase classname="my-transformation" name="sample""#))

        let sample = "transformations/my-transformation/tests/sample"
        let ran = try sluice(["run", "transformations/my-transformation", "--input", sample + "/input.ndjson", "--logs"], directory: root)
        #expect(ran.status == 0, "\(ran.stderr)")
        let expected = try String(contentsOf: root.appendingPathComponent(sample + "/expected.ndjson"), encoding: .utf8)
        #expect(try Self.values(ran.stdout) == Self.values(expected))
        #expect(ran.stderr.hasPrefix("sluice run: 3 events → 2 outputs, 1 dropped, 0 failed in "))
    }

    @Test func itRefusesToOverwriteNamingTheFilesAndForceOverwrites() throws {
        let root = try folder([".gitignore": "node_modules/\n", "README.md": "mine\n"])
        defer { try? FileManager.default.removeItem(at: root) }
        let refused = try sluice(["init", "--language", "python"], directory: root)
        #expect(refused.status == 1)
        #expect(refused.stderr.contains(": 1 file would be overwritten: .gitignore (--force overwrites them; nothing was written)"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("transformations").path))

        let forced = try sluice(["init", "--language", "python", "--force", "--name", "orders"], directory: root)
        #expect(forced.status == 0, "\(forced.stderr)")
        #expect(forced.stdout.hasPrefix("Created a Python project in .:\n"))
        #expect(try String(contentsOf: root.appendingPathComponent(".gitignore"), encoding: .utf8).contains(".sluice/"))
        #expect(try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8) == "mine\n")
        #expect(try sluice(["test"], directory: root, environment: ["CI": "true"]).lines.first == "✓ orders/sample")
    }

    @Test func anUnknownLanguageOrABadNameIsABadArgument() throws {
        let root = try folder(["notes.txt": ""])
        defer { try? FileManager.default.removeItem(at: root) }
        let language = try sluice(["init", "--language", "ruby"], directory: root)
        #expect(language.status == 64)
        #expect(language.stderr.contains("--language must be javascript or python (got ruby)"))
        let name = try sluice(["init", "--name", "../up"], directory: root)
        #expect(name.status == 1)
        #expect(name.stderr.contains(#""../up" cannot name a transformation"#))
    }
}
