import ArgumentParser
import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceTesting

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run events through a transformation and print one NDJSON line per result.",
        discussion: """
        Input is a JSON array or NDJSON; each item is a bare message or a {"message", "metadata"} envelope. Output lines, in input order: {"output": {...}, "metadata": {...}}, {"error": "...", "kind": "exception", "metadata": {...}} (kind: the failure kind's name, see docs/outcomes.md), {"dropped": true, "metadata": {...}}, and with --logs {"log": "...", "messageId": "..."}. A summary goes to standard error: events in, outputs, dropped, failed by kind. Exit status: 0 when the run completed (even if events failed: an event whose call had to be stopped in code the engines cannot interrupt gets its own error and the run goes on), 1 when the transformation cannot be loaded or compiled, 64 on bad arguments; with --isolation in-process, 70 when the engine met code it cannot interrupt (see docs/limits.md).
        """
    )

    @Argument(help: "A transformation file (.js or .py) or folder.")
    var transformation: String

    @Option(name: .long, help: "Library folder (default: the nearest libraries/ folder above the transformation, else ./libraries).")
    var libraries: String?

    @Option(name: .long, help: "Input file, or - for standard input.")
    var input: String = "-"

    @Option(name: .long, help: "A file holding a JSON object of credential key → value, for getCredential(key) (values keep their JSON types).")
    var credentials: String?

    @Option(name: .customLong("fetch-mocks"), help: ArgumentHelp("Answer fetch, fetchV2 and geolocation from this JSON object of URL → {\"status\", \"headers\", \"body\"} (a snapshot case's \"fetch\" format); other URLs fail.", valueName: "file"))
    var fetchMocks: String?

    @Flag(name: .customLong("allow-net"), help: "Let fetch and fetchV2 make real requests, through the service's egress guard (SLUICE_FETCH_ALLOW and SLUICE_FETCH_DENY apply).")
    var allowNet = false

    @Option(name: .customLong("time-limit-ms"), help: "Time limit per call in milliseconds (default 4000, or the manifest's).")
    var timeLimit: Int?

    @Option(name: .customLong("memory-limit-mb"), help: "Memory limit per call in megabytes (default 128, or the manifest's).")
    var memoryLimit: Int?

    @Option(name: .customLong("batch-size"), help: "Events per batch: one fresh module instance and one transformBatch call each.")
    var batchSize: Int = 200

    @Flag(name: .long, help: "Also print the lines logged with log(...).")
    var logs = false

    @Flag(name: .long, help: "Do not print the summary (or the progress line) to standard error.")
    var quiet = false

    @Flag(name: .customLong("fail-on-error"), help: "Exit with status 1 when any event failed (any error line).")
    var failOnError = false

    @Flag(name: .long, help: "Keep running: run again whenever the transformation, a library it imports, the input or the credentials file changes (needs --input FILE; Ctrl-C stops).")
    var watch = false

    @OptionGroup var isolation: IsolationOptions

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let timeLimit, timeLimit < 1 { throw ValidationError("--time-limit-ms must be at least 1") }
        if let memoryLimit, memoryLimit < 1 { throw ValidationError("--memory-limit-mb must be at least 1") }
        if watch && input == "-" { throw ValidationError("--watch needs --input FILE: standard input cannot be read again") }
        if fetchMocks != nil && allowNet { throw ValidationError("--fetch-mocks and --allow-net exclude each other: mocks answer every fetch") }
    }

    func run() throws {
        var handle: ExecutorHandle?
        defer { handle?.shutdown() }
        if watch { return try watchLoop(handle: &handle) }
        let summary = try runOnce(handle: &handle)
        if failOnError && summary.outcomes.failed > 0 { throw ExitCode(1) }
    }

    /// Loads the transformation, streams the input through it and prints the summary; starts
    /// `handle` on the first call. `stop` is asked after every batch (the run ends when it says so).
    private func runOnce(handle: inout ExecutorHandle?, stop: @escaping () -> Bool = { false }) throws -> StreamSummary {
        let loaded = try LoadedTransformation(path: transformation, libraries: libraries)
        var options = StreamOptions()
        do {
            if let credentials { options.credentials = try CredentialsFile.load(path: credentials) }
            if let fetchMocks { options.fetchMocks = try FetchMockFile.load(path: fetchMocks) }
        } catch {
            throw CLIError("\(error)")
        }
        options.fetch = try allowNet ? Self.networkFetch() : nil
        if handle == nil { handle = try isolation.makeExecutor(for: [loaded.program], fetch: options.fetch) }
        let executor = handle!.executor
        try loaded.check(on: executor)

        options.batchSize = batchSize
        options.includeLogs = logs
        options.jobs = handle!.jobs
        options.limits = LimitsOverride(timeMilliseconds: timeLimit, memoryMegabytes: memoryLimit).applied(to: loaded.limits)

        let reader: InputReader
        do {
            reader = try InputReader(path: input)
        } catch {
            throw CLIError("cannot read input: \(error)")
        }
        let style = TerminalStyle.resolve(mode: .auto, stdoutIsTerminal: isatty(1) != 0, stderrIsTerminal: isatty(2) != 0,
                                          environment: ProcessInfo.processInfo.environment, quiet: quiet)
        let progress = style.showsProgress ? ProgressLine { FileHandle.standardError.write(Data($0.utf8)) } : nil
        defer { progress?.finish() }
        let started = ContinuousClock.now
        let summary = try EventStreamRunner(executor: executor, program: loaded.program, options: options)
            .run(input: reader, output: OutputWriter()) { outcomes in
                progress?.update(outcomes)
                if stop() { throw WatchInterruption.Stop() }
            }
        let elapsed = ContinuousClock.now - started
        progress?.finish()
        if !quiet {
            let seconds = elapsed.secondsValue
            var line = "sluice run: " + summary.outcomes.summary
            line += String(format: " in %.3f s", seconds)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        if !summary.unmockedRequests.isEmpty {
            let requests = Array(Set(summary.unmockedRequests)).sorted().joined(separator: ", ")
            let message = fetchMocks == nil && !allowNet
                ? "fetch is not available in this run, so \(requests) failed (fetch gives \"ERROR\"): give --fetch-mocks FILE (mocked responses) or --allow-net (real requests through the egress guard)"
                : "no mock in \(fetchMocks ?? "--fetch-mocks") for \(requests) (those fetches failed)"
            FileHandle.standardError.write(Data("sluice run: \(message)\n".utf8))
        }
        return summary
    }

    /// Runs, then runs again after each change to what the run depends on, until Ctrl-C. A
    /// transformation that does not load or compile is reported and watched until it does.
    private func watchLoop(handle: inout ExecutorHandle?) throws {
        let libraryRoot = libraries ?? LibraryDirectory.nearestRoot(to: transformation)
        let inputs = Set(([input] + [credentials, fetchMocks].compactMap { $0 }).map(FolderWatcher.absolute))
        let watcher = try FolderWatcher(paths: [transformation, libraryRoot] + inputs.sorted())
        let interruption = WatchInterruption(stopping: watcher)
        let clears = TerminalStyle.resolve(mode: .auto, stdoutIsTerminal: isatty(1) != 0, stderrIsTerminal: isatty(2) != 0,
                                           environment: ProcessInfo.processInfo.environment).clearsScreen
        var dependencies = TransformationDependencies(transformation: transformation, libraryRoot: libraryRoot, languages: Engines.languages)
        /// One run and its report; false when Ctrl-C ended it.
        func runAgain() -> Bool {
            do {
                _ = try runOnce(handle: &handle, stop: { interruption.isInterrupted })
            } catch is WatchInterruption.Stop {
                return false
            } catch {
                FileHandle.standardError.write(Data("sluice run: \(error)\n".utf8))
            }
            FileHandle.standardError.write(Data((WatchText.waiting + "\n").utf8))
            return true
        }
        guard runAgain() else { return }
        while let changes = watcher.next() {
            // What the transformation depends on now, and what it depended on before the change.
            let current = TransformationDependencies(transformation: transformation, libraryRoot: libraryRoot, languages: Engines.languages)
            let relevant = changes.overflowed || changes.paths.contains { path in
                inputs.contains(path) || current.isAffected(by: path) || dependencies.isAffected(by: path)
            }
            dependencies = current
            guard relevant else { continue }
            if clears {
                print(TerminalStyle.clearScreen, terminator: "")
                fflush(nil)  // standard output, before the results, which are written to the descriptor directly
            }
            FileHandle.standardError.write(Data((WatchText.changed(changes) + "\n").utf8))
            guard runAgain() else { return }
        }
    }

    /// Real requests through the egress guard, under the service's policy variables.
    static func networkFetch() throws -> FetchHandler {
        do {
            return Fetcher(policy: try EgressPolicy.fromEnvironment(ProcessInfo.processInfo.environment)).userCodeHandler
        } catch {
            throw CLIError("\(error)")
        }
    }
}

/// An error the CLI reports as `sluice: <message>` with exit status 1.
struct CLIError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
