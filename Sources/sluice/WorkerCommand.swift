import ArgumentParser
import SluiceRuntime

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run user code for `sluice serve` (started by it; not for direct use).",
        discussion: """
        Speaks the worker protocol on descriptor 3, confines itself (no-new-privs, rlimits, a seccomp filter) before any user code runs, and exits when the server closes the channel. See docs/sandbox.md.
        """,
        shouldDisplay: false
    )

    @Option(name: .customLong("cache-count"), help: "Compiled programs kept (default 256).")
    var cacheCount = 256
    @Option(name: .customLong("cache-mb"), help: "Source megabytes of compiled programs kept (default 64).")
    var cacheMegabytes = 64

    func run() throws {
        var limits = CacheLimits()
        limits.count = cacheCount
        limits.bytes = cacheMegabytes << 20
        throw ExitCode(WorkerMain.run(cacheLimits: limits))
    }
}
