import ArgumentParser
import Foundation
import SluiceCore
import SluiceRuntime
import SluiceTesting

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run snapshot cases and compare the results with their expectations.",
        discussion: """
        A case is a folder transformations/<name>/tests/<case>/ with input.json (a JSON array) or input.ndjson, expected.ndjson (the expected `sluice run --logs` output) and an optional case.json ({"ignore": [paths], "credentials": {...}, "limits": {...}, "batchSize": N}). A missing expected.ndjson is recorded from the result and the case fails until it is reviewed and committed (in CI, when CI is set, nothing is recorded). Exit status 1 when any case fails.
        """
    )

    @Argument(help: "Case folders, transformation folders or folders of transformations (default: transformations).")
    var paths: [String] = []

    @Flag(name: .long, help: "Rewrite the expectations that differ, and say what changed.")
    var update = false

    @Option(name: .long, help: "Only cases whose id (<transformation>/<case>) contains this text.")
    var filter: String?

    @Option(name: .long, help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Option(name: .long, help: "Write a JSON report to this file.")
    var json: String?

    @OptionGroup var isolation: IsolationOptions

    func run() throws {
        // Local time must not depend on the machine: `new Date().toString()` and the like.
        setenv("TZ", "UTC", 1)
        let roots = paths.isEmpty ? ["transformations"] : paths
        var cases = try CaseDiscovery.cases(in: roots)
        var rudderCases = try RudderCase.discover(in: roots)
        if let filter {
            cases = cases.filter { $0.id.contains(filter) }
            rudderCases = rudderCases.filter { $0.id.contains(filter) }
        }
        let inCI = ProcessInfo.processInfo.environment["CI"].map { !$0.isEmpty && $0 != "false" && $0 != "0" } ?? false
        if update && inCI { throw CLIError("--update is refused when CI is set: expectations are reviewed, not rewritten, in CI") }
        // Cases run --jobs at a time (in-process Python cases take turns on the one interpreter)
        // and are reported in order.
        let handle = try isolation.makeExecutor(for: [])
        defer { handle.shutdown() }
        let runner = SnapshotRunner(update: update, recordMissing: !inCI, executor: handle.executor)
        let colour = isatty(1) != 0
        var reports: [CaseReport] = []
        var remaining = cases.map { snapshot in { runner.run(snapshot) } } + rudderCases.map { rudderCase in { runner.run(rudderCase) } }
        try OrderedPipeline<() -> CaseReport, CaseReport>(workers: handle.jobs).run(
            produce: { remaining.isEmpty ? nil : remaining.removeFirst() },
            work: { check in check() },
            consume: { _, report in
                reports.append(report)
                print(Reports.text(report, colour: colour))
            })
        if let junit { try Reports.junit(reports).write(toFile: junit, atomically: true, encoding: .utf8) }
        if let json { try Reports.json(reports).write(to: URL(fileURLWithPath: json)) }
        if cases.isEmpty && rudderCases.isEmpty {
            print("no cases found in \(roots.joined(separator: ", "))" + (filter.map { " matching \"\($0)\"" } ?? ""))
            print(Reports.summary(reports))
            throw ExitCode(1)
        }
        print(Reports.summary(reports))
        if reports.contains(where: \.isFailure) { throw ExitCode(1) }
    }
}
