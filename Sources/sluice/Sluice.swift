import ArgumentParser
import Foundation
import SluiceCore

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Run user-written event transformations (RudderStack-compatible) on JavaScriptCore and CPython.",
        version: SluiceVersion.current,
        subcommands: [ServeCommand.self, RunCommand.self, TestCommand.self, InitCommand.self, RecordCommand.self, ReplayCommand.self, BenchCommand.self,
                      StudioCommand.self, WorkerCommand.self]
    )

    /// ArgumentParser's `main`, after a mistyped subcommand got its suggestion.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if let message = mistypedSubcommand(arguments) {
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(ExitCode.validationFailure.rawValue)
        }
        await main(arguments)
    }

    /// `Error: unknown command 'tets'. Did you mean 'test'?` (and the usage) when the first
    /// argument is not a subcommand but is close to one; nil otherwise (ArgumentParser reports the
    /// rest).
    static func mistypedSubcommand(_ arguments: [String]) -> String? {
        guard let first = arguments.first, !first.hasPrefix("-") else { return nil }
        let names = configuration.subcommands.map { $0._commandName }
        let visible = configuration.subcommands.filter { $0.configuration.shouldDisplay }.map { $0._commandName } + ["help"]
        guard !names.contains(first), first != "help", let suggestion = Wording.closest(to: first, among: visible) else { return nil }
        return "Error: unknown command '\(first)'. Did you mean '\(suggestion)'?\nUsage: sluice <subcommand>\n  See 'sluice --help' for more information."
    }
}
