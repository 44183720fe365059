/// How a command writes to a terminal: colours, clearing the screen between `--watch` runs, and
/// a progress line on standard error. Decided once, at the edge (the CLI), from `--color`, the
/// environment and whether the outputs are terminals; everything below only follows it.
public struct TerminalStyle: Sendable, Equatable {
    /// `--color`: `auto` (the default) colours a terminal unless `NO_COLOR` is set (to anything
    /// but the empty string, see no-color.org) or `TERM` is `dumb`; `always` and `never` decide
    /// whatever the output and the environment.
    public enum ColorMode: String, Sendable, CaseIterable {
        case auto, always, never
    }

    /// Colour the text on standard output (ANSI escape sequences).
    public var colour = false
    /// Clear the screen before each `--watch` re-run.
    public var clearsScreen = false
    /// Draw a progress line on standard error while a long run goes on.
    public var showsProgress = false

    public init(colour: Bool = false, clearsScreen: Bool = false, showsProgress: Bool = false) {
        self.colour = colour
        self.clearsScreen = clearsScreen
        self.showsProgress = showsProgress
    }

    /// The style for a command:
    ///
    /// - colour: as `mode` says (see ``ColorMode``), for standard output;
    /// - clearing the screen: only when standard output is a terminal, `TERM` is not `dumb` and
    ///   colour is not turned off by `--color never` or `NO_COLOR` (plain output asked for: no
    ///   escape sequences at all — runs are separated by a blank line instead);
    /// - the progress line: only when standard error is a terminal and standard output is not (the
    ///   results go to a file or a pipe, so the line does not tangle with them), `TERM` is not
    ///   `dumb`, and the command is not `quiet`.
    public static func resolve(mode: ColorMode, stdoutIsTerminal: Bool, stderrIsTerminal: Bool, environment: [String: String],
                               quiet: Bool = false) -> TerminalStyle {
        let dumb = environment["TERM"] == "dumb"
        let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
        let colour = switch mode {
        case .always: true
        case .never: false
        case .auto: stdoutIsTerminal && !dumb && !noColor
        }
        let plain = mode == .never || (mode == .auto && noColor)
        return TerminalStyle(colour: colour, clearsScreen: stdoutIsTerminal && !dumb && !plain,
                             showsProgress: stderrIsTerminal && !stdoutIsTerminal && !dumb && !quiet)
    }

    /// Clears the screen and its scrollback and puts the cursor at the top left.
    public static let clearScreen = "\u{1B}[2J\u{1B}[3J\u{1B}[H"
}
