import Foundation
import SluiceTestSupport
import Testing

/// `sluice bench` finds a workload wherever it runs, and says on standard error which one it used.
/// Figures are not checked: benchmarks are not tests.
@Suite struct BenchCommand {
    static let quick = ["--events", "200", "--seconds", "0.05", "--rounds", "1", "--no-peers"]
    /// An empty SLUICE_BENCH_DIR counts as unset (the test runner's own environment may set it).
    static let noBenchDirectory = ["SLUICE_BENCH_DIR": ""]

    /// A reference-style workload: a generator script and one pass-through workload per language.
    static func referenceWorkload() throws -> URL {
        try folder([
            "shared/bench/gen_events.py": """
            import argparse, json
            parser = argparse.ArgumentParser()
            parser.add_argument("--count", type=int)
            parser.add_argument("--seed", type=int)
            parser.add_argument("--format", default="ndjson")
            arguments = parser.parse_args()
            for index in range(arguments.count):
                print(json.dumps({"message": {"messageId": f"m{index}", "type": "track"}, "metadata": {"messageId": f"m{index}"}}))
            """,
            "shared/bench/workloads/passthrough.js": "export function transformEvent(event) { return event; }",
            "shared/bench/libraries/.keep": "",
            "project/.keep": "",
        ]).resolvingSymlinksInPath()
    }

    @Test func outsideAnyCloneItRunsSluicesOwnWorkloadAndNamesIt() throws {
        let empty = try folder([".keep": ""])
        defer { try? FileManager.default.removeItem(at: empty) }
        let own = PackageRoot.path + "/Benchmarks/workload"
        for language in ["javascript", "python"] {
            let result = try sluice(["bench", "--language", language] + Self.quick, directory: empty, environment: Self.noBenchDirectory)
            #expect(result.status == 0, "\(language): \(result.stderr)")
            #expect(result.stderr.contains("sluice bench: workload \(own) (Sluice's own small workload"), "\(result.stderr)")
            #expect(result.stderr.contains("../shared/bench") == false, "candidates are named as absolute folders: \(result.stderr)")
            let rows = result.lines.filter { $0.hasPrefix("tidy ") || $0.hasPrefix("dedupe ") }
            #expect(rows.count == 2, "\(language): \(result.stdout)")
            // Where an event's time goes: a row per phase, each with a figure for both workloads.
            #expect(result.stdout.contains("where an event's time goes"), "\(result.stdout)")
            for phase in ["input text", "metadata", "calls", "records", "outside the engine", "total", "an empty batch"] {
                let row = result.lines.first { $0.hasPrefix(phase + " ") }
                #expect(row.map { $0.split(separator: " ").filter { Double($0) != nil }.count } == 2, "\(language) \(phase): \(result.stdout)")
            }
        }
    }

    @Test func jsonOutputStaysCleanWhileStandardErrorNamesTheWorkload() throws {
        let empty = try folder([".keep": ""])
        defer { try? FileManager.default.removeItem(at: empty) }
        let result = try sluice(["bench", "--json", "--workload", "tidy"] + Self.quick, directory: empty, environment: Self.noBenchDirectory)
        #expect(result.status == 0, "\(result.stderr)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try #require(report["results"] as? [[String: Any]])
        #expect(rows.map { $0["workload"] as? String } == ["tidy"])
        let phases = try #require(rows.first?["phaseMicrosecondsPerEvent"] as? [[String: Any]])
        #expect(phases.map { $0["phase"] as? String } == ["input text", "begin", "metadata", "calls", "finish", "records", "outside the engine"])
        #expect(phases.allSatisfy { ($0["microseconds"] as? Double).map { $0 >= 0 } == true })
        #expect((rows.first?["emptyBatchMicroseconds"] as? Double).map { $0 > 0 } == true)
        #expect(result.stderr.contains("Benchmarks/workload (Sluice's own small workload"))
    }

    @Test func theReferenceWorkloadBesideTheCurrentFolderWinsOverSluicesOwn() throws {
        let root = try Self.referenceWorkload()
        defer { try? FileManager.default.removeItem(at: root) }
        let result = try sluice(["bench"] + Self.quick, directory: root.appendingPathComponent("project"), environment: Self.noBenchDirectory)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("sluice bench: workload \(root.path)/shared/bench (the reference workload)"), "\(result.stderr)")
        #expect(result.lines.contains { $0.hasPrefix("passthrough ") }, "\(result.stdout)")
    }

    @Test func theEnvironmentAndTheOptionNameTheFolderAndAMissingOneIsAnError() throws {
        let root = try Self.referenceWorkload()
        defer { try? FileManager.default.removeItem(at: root) }
        let bench = root.path + "/shared/bench"
        let fromEnvironment = try sluice(["bench"] + Self.quick, directory: root, environment: ["SLUICE_BENCH_DIR": bench])
        #expect(fromEnvironment.status == 0, "\(fromEnvironment.stderr)")
        #expect(fromEnvironment.stderr.contains("sluice bench: workload \(bench) ($SLUICE_BENCH_DIR)"), "\(fromEnvironment.stderr)")

        let missing = root.path + "/no-such-bench"
        let wrongEnvironment = try sluice(["bench"] + Self.quick, directory: root, environment: ["SLUICE_BENCH_DIR": missing])
        #expect(wrongEnvironment.status != 0)
        #expect(wrongEnvironment.stderr.contains("no benchmark workload at \(missing)") && wrongEnvironment.stderr.contains("$SLUICE_BENCH_DIR"),
                "\(wrongEnvironment.stderr)")

        // The option wins over the environment; a folder without gen_events.py gets generated events.
        let own = PackageRoot.path + "/Benchmarks/workload"
        let explicit = try sluice(["bench", "--bench-directory", own, "--workload", "tidy"] + Self.quick, directory: root, environment: ["SLUICE_BENCH_DIR": missing])
        #expect(explicit.status == 0, "\(explicit.stderr)")
        #expect(explicit.stderr.contains("sluice bench: workload \(own) (--bench-directory)"), "\(explicit.stderr)")
        #expect(explicit.lines.contains { $0.hasPrefix("tidy ") })
    }
}
