import ArgumentParser
import Foundation
import SluiceRegistry
import SluiceRuntime

/// `--color` of the commands that colour their output (`sluice test`).
struct ColorOptions: ParsableArguments {
    @Option(name: .long, help: "auto (colour a terminal unless NO_COLOR is set or TERM is dumb), always or never.")
    var color: String = "auto"

    func validate() throws {
        guard TerminalStyle.ColorMode(rawValue: color) != nil else {
            throw ValidationError("--color must be auto, always or never (got \(color))")
        }
    }

    /// The style for this process's standard output and error (see ``TerminalStyle/resolve``).
    func style(quiet: Bool = false) -> TerminalStyle {
        TerminalStyle.resolve(mode: TerminalStyle.ColorMode(rawValue: color) ?? .auto, stdoutIsTerminal: isatty(1) != 0,
                              stderrIsTerminal: isatty(2) != 0, environment: ProcessInfo.processInfo.environment, quiet: quiet)
    }
}

/// Ctrl-C (SIGINT) and SIGTERM during `--watch`: the first stops the watcher (a run in progress
/// is abandoned at its next check of ``isInterrupted``) and the command returns with status 0,
/// its worker processes stopped; a second one exits at once with status 130.
final class WatchInterruption: @unchecked Sendable {
    // @unchecked: `interrupted` is guarded by `lock`; the sources are only kept alive.
    private let lock = NSLock()
    private var interrupted = false
    private var sources: [any DispatchSourceSignal] = []

    init(stopping watcher: FolderWatcher) {
        sources = [SIGINT, SIGTERM].map { number in
            _ = signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let again = self.lock.withLock { defer { self.interrupted = true }; return self.interrupted }
                if again { Foundation.exit(130) }
                watcher.stop()
            }
            source.resume()
            return source
        }
    }

    var isInterrupted: Bool { lock.withLock { interrupted } }

    /// Thrown from a run's progress check to abandon it.
    struct Stop: Error {}
}

/// What a `--watch` loop prints between runs.
enum WatchText {
    /// `changed: transformations/a/transform.js, libraries/b.js` (paths relative to the working
    /// folder; at most five, then how many more).
    static func changed(_ changes: FolderWatcher.Changes) -> String {
        if changes.overflowed { return "changed: too many files to list (the watcher's queue overflowed); running everything" }
        let here = FolderWatcher.absolute(".") + "/"
        let paths = changes.paths.sorted().map { $0.hasPrefix(here) ? String($0.dropFirst(here.count)) : $0 }
        let shown = paths.prefix(5).joined(separator: ", ")
        return "changed: " + shown + (paths.count > 5 ? " and \(paths.count - 5) more" : "")
    }

    static let waiting = "watching for changes (Ctrl-C to stop)"
}
