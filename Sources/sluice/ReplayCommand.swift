import ArgumentParser
import Foundation
import SluiceCore
import SluiceRuntime
import SluiceTesting

struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay recordings through a transformation and report what changed.",
        discussion: """
        Compares each recorded event's results with the candidate's (or, with --against, with a second transformation run side by side): unchanged, changed, newly dropped, newly produced (was dropped, now output), newly failing, newly passing; the paths that changed most; the first differences in full, each named by its recording file and line and its messageId. A folder argument replays every recording (.ndjson) in it. Clocks are fixed and randomness seeded as in sluice test. Exit status 1 when anything differs.
        """
    )

    @Argument(help: "Recording files (from sluice record or serve --record), or folders of them.")
    var recordings: [String]

    @Option(name: .long, help: "The candidate transformation (file or folder).")
    var transformation: String

    @Option(name: .long, help: "Compare with this transformation instead of the recorded results.")
    var against: String?

    @Option(name: .long, help: "Library folder (default: the nearest libraries/ above the transformation).")
    var libraries: String?

    @Option(name: .long, parsing: .singleValue, help: "A result path not to compare, e.g. '$[*].output.receivedAt' (repeatable).")
    var ignore: [String] = []

    @Option(name: .long, help: "How many differing events to show in full.")
    var show: Int = 5

    @Flag(name: .long, help: "Print the report as JSON (differences as {path, expected, actual} objects).")
    var json = false

    @OptionGroup var isolation: IsolationOptions

    func run() throws {
        setenv("TZ", "UTC", 1)
        let candidate = try LoadedTransformation(path: transformation, libraries: libraries)
        let baseline = try against.map { try LoadedTransformation(path: $0, libraries: libraries) }
        let handle = try isolation.makeExecutor(for: [candidate.program] + (baseline.map { [$0.program] } ?? []))
        defer { handle.shutdown() }
        try candidate.check(on: handle.executor)
        try baseline?.check(on: handle.executor)
        var options = Replayer.Options()
        options.ignore = ignore
        options.examples = show
        options.limits = candidate.limits
        options.jobs = handle.jobs
        let replayer = Replayer(executor: handle.executor, candidate: candidate.program,
                                against: baseline.map { ($0.program, $0.limits) }, options: options)
        let files: [String]
        do { files = try Replayer.recordingFiles(recordings) } catch { throw CLIError("\(error)") }
        let totalBytes = files.reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        let terminal = isatty(2) != 0 && !json
        let started = Date()
        var lastDraw = Date.distantPast
        let summary = try replayer.replay(files: files) { bytes, events in
            guard terminal, Date().timeIntervalSince(lastDraw) > 0.25 else { return }
            lastDraw = Date()
            let elapsed = max(Date().timeIntervalSince(started), 0.001)
            let fraction = totalBytes > 0 ? min(Double(bytes) / Double(totalBytes), 1) : 0
            let eta = fraction > 0 ? elapsed / fraction - elapsed : 0
            let bar = String(repeating: "█", count: Int(fraction * 30)) + String(repeating: "░", count: 30 - Int(fraction * 30))
            let line = String(format: "\r%@ %3.0f%%  %d events  %.0f/s  ETA %.0fs ", bar, fraction * 100, events, Double(events) / elapsed, eta)
            FileHandle.standardError.write(Data(line.utf8))
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        if json {
            print(String(decoding: try ReplayReport.json(summary), as: UTF8.self))
        } else {
            print(ReplayReport.text(summary))
        }
        if summary.events == 0 || summary.unreadable > 0 {
            FileHandle.standardError.write(Data("sluice replay: \(summary.events == 0 ? "no events replayed" : "\(Wording.counted(summary.unreadable, "line")) \(summary.unreadable == 1 ? "is not a recording" : "are not recordings")"): is this a file from sluice record?\n".utf8))
            throw ExitCode(1)
        }
        if summary.differs { throw ExitCode(1) }
    }
}
