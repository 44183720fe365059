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

    @Argument(help: "A transformation file (.js) or folder.")
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

    @Flag(name: .long, help: "Do not print the summary to standard error.")
    var quiet = false

    @OptionGroup var isolation: IsolationOptions

    func validate() throws {
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if let timeLimit, timeLimit < 1 { throw ValidationError("--time-limit-ms must be at least 1") }
        if let memoryLimit, memoryLimit < 1 { throw ValidationError("--memory-limit-mb must be at least 1") }
        if fetchMocks != nil && allowNet { throw ValidationError("--fetch-mocks and --allow-net exclude each other: mocks answer every fetch") }
    }

    func run() throws {
        let loaded = try LoadedTransformation(path: transformation, libraries: libraries)
        var options = StreamOptions()
        do {
            if let credentials { options.credentials = try CredentialsFile.load(path: credentials) }
            if let fetchMocks { options.fetchMocks = try FetchMockFile.load(path: fetchMocks) }
        } catch {
            throw CLIError("\(error)")
        }
        options.fetch = try allowNet ? Self.networkFetch() : nil
        let handle = try isolation.makeExecutor(for: [loaded.program], fetch: options.fetch)
        defer { handle.shutdown() }
        try loaded.check(on: handle.executor)

        options.batchSize = batchSize
        options.includeLogs = logs
        options.jobs = handle.jobs
        options.limits = LimitsOverride(timeMilliseconds: timeLimit, memoryMegabytes: memoryLimit).applied(to: loaded.limits)

        let reader: InputReader
        do {
            reader = try InputReader(path: input)
        } catch {
            throw CLIError("cannot read input: \(error)")
        }
        let started = ContinuousClock.now
        let summary = try EventStreamRunner(executor: handle.executor, program: loaded.program, options: options)
            .run(input: reader, output: OutputWriter())
        let elapsed = ContinuousClock.now - started
        if !quiet {
            let seconds = elapsed.secondsValue
            var line = "sluice run: " + summary.outcomes.summary
            line += String(format: " in %.3f s", seconds)
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
        if !summary.unmockedRequests.isEmpty {
            let requests = Array(Set(summary.unmockedRequests)).sorted().joined(separator: ", ")
            FileHandle.standardError.write(Data("sluice run: no mock in \(fetchMocks ?? "--fetch-mocks") for \(requests) (those fetches failed)\n".utf8))
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
