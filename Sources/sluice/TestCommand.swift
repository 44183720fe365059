import ArgumentParser
import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTesting

struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run snapshot cases and compare the results with their expectations.",
        discussion: """
        A case is a folder transformations/<name>/tests/<case>/ with input.json (a JSON array) or input.ndjson, expected.ndjson (the expected `sluice run --logs` output) and an optional case.json ({"ignore": [paths], "credentials": {...}, "limits": {...}, "batchSize": N}). A missing expected.ndjson is recorded from the result and the case fails until it is reviewed and committed (in CI, when CI is set, nothing is recorded). Without PATH: ./transformations, or the current folder when it is a transformation folder (or a case folder). Exit status 1 when any case fails. With --watch: run the cases again whenever a file they depend on changes (a case's own files, its transformation's, the libraries it imports), until Ctrl-C (exit status 0).
        """
    )

    @Argument(help: "Case folders, transformation folders or folders of transformations (default: transformations, or the current folder when it is a transformation folder).")
    var paths: [String] = []

    @Flag(name: .long, help: "Rewrite the expectations that differ, and say what changed.")
    var update = false

    @Option(name: .long, help: "Only cases whose id (<transformation>/<case>) contains this text.")
    var filter: String?

    @Option(name: .long, help: "Write a JUnit XML report to this file.")
    var junit: String?

    @Option(name: .long, help: "Write a JSON report to this file.")
    var json: String?

    @Flag(name: .long, help: "Print only the cases that fail, and the summary.")
    var quiet = false

    @Flag(name: .long, help: "Keep running: run the affected cases again whenever a case, transformation or library file changes (Ctrl-C stops).")
    var watch = false

    @OptionGroup var color: ColorOptions

    @OptionGroup var isolation: IsolationOptions

    func validate() throws {
        if watch && update { throw ValidationError("--watch cannot be combined with --update: run sluice test --update once, then watch") }
        if watch && (junit != nil || json != nil) { throw ValidationError("--watch writes no reports: drop --junit and --json") }
    }

    func run() throws {
        // Local time must not depend on the machine: `new Date().toString()` and the like.
        setenv("TZ", "UTC", 1)
        let roots = paths.isEmpty ? SnapshotSuite.defaultPaths(in: ".") : paths
        let suite = try SnapshotSuite(paths: roots, filter: filter)
        let inCI = ContinuousIntegration.isSet()
        if update && inCI { throw CLIError("--update is refused when CI is set: expectations are reviewed, not rewritten, in CI") }
        // Cases run --jobs at a time (in-process Python cases take turns on the one interpreter)
        // and are reported in order.
        let handle = try isolation.makeExecutor(for: [])
        defer { handle.shutdown() }
        let runner = SnapshotRunner(update: update, recordMissing: !inCI, executor: handle.executor)
        let style = color.style()
        let reports = try runCases(suite.cases, runner: runner, jobs: handle.jobs, style: style)
        suite.record(reports)
        if let junit { try Reports.junit(reports).write(toFile: junit, atomically: true, encoding: .utf8) }
        if let json { try Reports.json(reports).write(to: URL(fileURLWithPath: json)) }
        if suite.cases.isEmpty {
            print("no cases found in \(roots.joined(separator: ", "))" + (filter.map { " matching \"\($0)\"" } ?? ""))
        }
        print(Reports.summary(reports))
        if watch { return try watchLoop(suite: suite, runner: runner, jobs: handle.jobs, style: style) }
        if suite.cases.isEmpty || reports.contains(where: \.isFailure) { throw ExitCode(1) }
    }

    /// Runs `cases`, `jobs` at a time, printing each report in order (with --quiet, only those
    /// that fail); once `stop` says so, starts no more cases and prints nothing more.
    private func runCases(_ cases: [SuiteCase], runner: SnapshotRunner, jobs: Int, style: TerminalStyle,
                          stop: @escaping () -> Bool = { false }) throws -> [CaseReport] {
        var reports: [CaseReport] = []
        var remaining = cases[...]
        try OrderedPipeline<SuiteCase, CaseReport>(workers: jobs).run(
            produce: { stop() ? nil : remaining.popFirst() },
            work: { suiteCase in suiteCase.run(with: runner) },
            consume: { _, report in
                reports.append(report)
                // After Ctrl-C, results of cases whose worker processes the terminal's SIGINT ended are noise.
                if !stop() && (!quiet || report.isFailure) { print(Reports.text(report, colour: style.colour)) }
            })
        return reports
    }

    /// Waits for changes and runs the cases they affect, until Ctrl-C.
    private func watchLoop(suite: SnapshotSuite, runner: SnapshotRunner, jobs: Int, style: TerminalStyle) throws {
        let watcher = try FolderWatcher(paths: suite.watchedPaths)
        let interruption = WatchInterruption(stopping: watcher)
        print(WatchText.waiting)
        fflush(nil)
        while let changes = watcher.next() {
            let affected: [SuiteCase]
            do {
                affected = try suite.affected(by: changes, languages: Engines.languages)
                try watcher.watch(suite.watchedPaths)  // a new transformation's library folder
            } catch {
                print("sluice test: \(error)")
                fflush(nil)
                continue
            }
            guard !affected.isEmpty else { continue }
            print(style.clearsScreen ? TerminalStyle.clearScreen : "", terminator: style.clearsScreen ? "" : "\n")
            print(WatchText.changed(changes))
            let reports = try runCases(affected, runner: runner, jobs: jobs, style: style, stop: { interruption.isInterrupted })
            if interruption.isInterrupted { break }
            suite.record(reports)
            print("ran \(Wording.counted(reports.count, "case")) again: " + Reports.summary(reports))
            let all = suite.latestReports
            if all.count > reports.count { print("all \(Wording.counted(all.count, "case")): " + Reports.summary(all)) }
            print(WatchText.waiting)
            fflush(nil)
        }
    }
}
