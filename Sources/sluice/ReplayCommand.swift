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
        Compares each recorded event's results with the candidate's (or, with --against, with a second transformation run side by side): unchanged, changed, newly dropped, newly failing, newly passing; the paths that changed most; the first differences in full. Clocks are fixed and randomness seeded as in sluice test. Exit status 1 when anything differs.
        """
    )

    @Argument(help: "Recording files (from sluice record).")
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

    @Flag(name: .long, help: "Print the report as JSON.")
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
        let totalBytes = recordings.reduce(0) { total, path in
            total + ((try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0)
        }
        let terminal = isatty(2) != 0 && !json
        let started = Date()
        var lastDraw = Date.distantPast
        let summary = try replayer.replay(files: recordings) { bytes, events in
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
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(Self.text(summary))
        }
        if summary.events == 0 || summary.unreadable > 0 {
            FileHandle.standardError.write(Data("sluice replay: \(summary.events == 0 ? "no events replayed" : "\(Wording.counted(summary.unreadable, "line")) \(summary.unreadable == 1 ? "is not a recording" : "are not recordings")"): is this a file from sluice record?\n".utf8))
            throw ExitCode(1)
        }
        if summary.differs { throw ExitCode(1) }
    }

    static func text(_ summary: ReplaySummary) -> String {
        var lines = [
            "replayed \(Wording.counted(summary.events, "event")) in \(String(format: "%.2f", summary.seconds)) s (\(Int(Double(summary.events) / max(summary.seconds, 0.000_001))) events/s)",
            "  candidate      \(summary.outcomes.summary)",
            "  unchanged      \(summary.unchanged)",
            "  changed        \(summary.changed)",
            "  newly dropped  \(summary.newlyDropped)",
            "  newly failing  \(summary.newlyFailing)",
            "  newly passing  \(summary.newlyPassing)",
        ]
        if summary.unreadable > 0 { lines.append("  unreadable lines \(summary.unreadable)") }
        if !summary.paths.isEmpty {
            lines.append("paths that changed most:")
            let top = summary.paths.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10)
            let widest = top.map(\.value).max() ?? 1
            for (path, count) in top {
                let bar = String(repeating: "▇", count: max(1, count * 20 / widest))
                lines.append("  \(String(count).padding(toLength: 8, withPad: " ", startingAt: 0)) \(bar) \(path)")
            }
        }
        for example in summary.examples {
            lines.append("\(example.location) (\(example.kind)):")
            lines += example.differences.map { "    " + $0 }
        }
        return lines.joined(separator: "\n")
    }
}
