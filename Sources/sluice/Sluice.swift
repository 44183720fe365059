import ArgumentParser

@main
struct Sluice: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sluice",
        abstract: "Run user-written event transformations (RudderStack-compatible) on JavaScriptCore and CPython.",
        subcommands: [RunCommand.self, TestCommand.self, RecordCommand.self, ReplayCommand.self, BenchCommand.self]
    )
}
