import ArgumentParser
import Foundation

/// `sluice studio [DIR]`: Studio on a project folder, on loopback only (docs/studio.md).
struct StudioCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "studio",
        abstract: "Open Studio, the browser playground, on a project folder (loopback only).",
        discussion: """
        Serves DIR/transformations and DIR/libraries as `sluice serve` does, on 127.0.0.1 only, with Studio at / — browse, edit, run on the snapshot cases, pasted events or a slice of a recording (DIR/recordings unless --recordings says otherwise), and diff — and prints its URL on standard output. The API's store is DIR/.sluice/registry.sqlite unless --store says otherwise. Runs use the service's worker processes and limits. See docs/studio.md.
        """
    )

    @Argument(help: "The project folder, with transformations/ and libraries/ (default: the current folder).")
    var directory: String = "."
    @Option(help: "Port (default 0: a free one).")
    var port: Int = 0
    @Option(help: "processes (default) or in-process.")
    var isolation: String?
    @Option(help: "The API's store (default DIR/.sluice/registry.sqlite).")
    var store: String?
    @Option(parsing: .singleValue, help: "A folder of recordings (from sluice record or serve --record) to run slices of (repeatable; default DIR/recordings).")
    var recordings: [String] = []

    func run() async throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("\(directory): no such folder (sluice studio DIR wants a project folder with transformations/)")
        }
        let root = directory.hasSuffix("/") && directory.count > 1 ? String(directory.dropLast()) : directory
        var arguments = ["--host", "127.0.0.1", "--port", "\(port)", "--transformations", root + "/transformations",
                         "--libraries", root + "/libraries", "--store", store ?? root + "/.sluice/registry.sqlite", "--studio"]
        if let isolation { arguments += ["--isolation", isolation] }
        for folder in recordings.isEmpty ? [root + "/recordings"] : recordings { arguments += ["--studio-recordings", folder] }
        let serve = try ServeCommand.parse(arguments)
        try await serve.run()
    }

    /// `Studio: http://127.0.0.1:PORT/` on standard output, once the service listens.
    static func announce(host: String, port: Int) {
        let name = host.contains(":") ? "[\(host)]" : host == "0.0.0.0" ? "127.0.0.1" : host
        FileHandle.standardOutput.write(Data("Studio: http://\(name):\(port)/\n".utf8))
    }
}
