import ArgumentParser
import SluiceCore

@main
struct Sluice: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Run user-written event transformations (RudderStack-compatible) on JavaScriptCore and CPython.",
        version: SluiceVersion.current,
        subcommands: [ServeCommand.self, RunCommand.self, TestCommand.self, RecordCommand.self, ReplayCommand.self, BenchCommand.self, WorkerCommand.self]
    )
}
