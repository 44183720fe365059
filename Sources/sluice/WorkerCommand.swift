import ArgumentParser
import Foundation
import SluiceCore
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
    @Option(help: "The languages whose engines to start, comma-separated (default: every registered language); the server asks for the ones its programs need.")
    var languages: String?

    @Option(name: .customLong("log-format"), help: "text (default) or json: how the lines it writes to standard error look.")
    var logFormat = "text"

    func validate() throws {
        if !["text", "json"].contains(logFormat) { throw ValidationError("--log-format must be text or json") }
        if let languages, Self.parse(languages) == nil { throw ValidationError("--languages: unknown language in \(languages)") }
    }

    func run() throws {
        var limits = CacheLimits()
        limits.count = cacheCount
        limits.bytes = cacheMegabytes << 20
        throw ExitCode(WorkerMain.run(cacheLimits: limits, languages: languages.flatMap(Self.parse) ?? Set(Language.allCases),
                                        jsonLogs: logFormat == "json"))
    }

    /// `javascript,python` (or any of ``Language``'s names) as languages; nil when a name is not
    /// one (an empty list starts no engine).
    static func parse(_ list: String) -> Set<Language>? {
        var languages: Set<Language> = []
        for name in list.split(separator: ",") {
            guard let language = Language(name: name.trimmingCharacters(in: .whitespaces)) else { return nil }
            languages.insert(language)
        }
        return languages
    }
}
