import Foundation
import Testing

/// The command line's small conveniences, on the real binary: suggestions, help, exit statuses,
/// quiet and coloured output, the progress line on a terminal, wording, and where `sluice test`
/// looks.
@Suite struct CommandLineConveniences {
    static let project: [String: String] = [
        "transformations/a/transform.js": "export function transformEvent(e) { return { ...e, seen: true }; }",
        "transformations/a/tests/good/input.ndjson": #"{"messageId":"1"}"# + "\n",
        "transformations/a/tests/good/expected.ndjson": #"{"output":{"messageId":"1","seen":true},"metadata":{"messageId":"1"}}"# + "\n",
        "transformations/a/tests/bad/input.ndjson": #"{"messageId":"2"}"# + "\n",
        "transformations/a/tests/bad/expected.ndjson": #"{"output":{"messageId":"2","seen":false},"metadata":{"messageId":"2"}}"# + "\n",
        "transformations/b/transform.js": "export function transformEvent(e) { return e; }",
        "transformations/b/tests/only/input.ndjson": #"{"messageId":"3"}"# + "\n",
        "transformations/b/tests/only/expected.ndjson": #"{"output":{"messageId":"3"},"metadata":{"messageId":"3"}}"# + "\n",
    ]

    /// `command` run by `script` on a pseudo-terminal (its standard output and error are a
    /// terminal); what the terminal showed. Nil when `script` (util-linux) is not installed.
    static func onTerminal(_ arguments: [String], directory: URL, environment: [String: String] = [:], redirectingOutputTo file: String? = nil) throws -> CommandResult? {
        let script = "/usr/bin/script"
        guard FileManager.default.isExecutableFile(atPath: script) else { return nil }
        func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'" }
        var command = ([sluiceBinary.path] + arguments).map(quoted).joined(separator: " ")
        if let file { command += " > " + quoted(file) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: script)
        process.arguments = ["-q", "-e", "-c", command, "/dev/null"]
        process.currentDirectoryURL = directory
        var inherited = ProcessInfo.processInfo.environment
        inherited["NO_COLOR"] = nil  // only what the test sets
        inherited["TERM"] = "xterm"
        process.environment = inherited.merging(environment) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let shown = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: String(decoding: shown, as: UTF8.self), stderr: "")
    }

    @Test func aMistypedSubcommandGetsASuggestion() throws {
        let typo = try sluice(["tets"])
        #expect(typo.status == 64)
        #expect(typo.stderr.hasPrefix("Error: unknown command 'tets'. Did you mean 'test'?\n"))
        #expect(try sluice(["rnu", "x.js"]).stderr.contains("Did you mean 'run'?"))
        #expect(try sluice(["int"]).stderr.contains("Did you mean 'init'?"))
        // Nothing close: ArgumentParser's own message.
        let unknown = try sluice(["deploy"])
        #expect(unknown.status == 64)
        #expect(unknown.stderr.contains("Unexpected argument 'deploy'") && !unknown.stderr.contains("Did you mean"))
        // Real subcommands and options are left alone.
        #expect(try sluice(["help", "test"]).stdout.contains("--watch"))
    }

    @Test func runHelpNamesPythonFiles() throws {
        let help = try sluice(["run", "--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("A transformation file (.js or .py) or folder."))
        #expect(help.stdout.contains("--fail-on-error"))
    }

    @Test func failOnErrorExitsWith1WhenAnyEventFailed() throws {
        let root = try folder(["t.js": #"export function transformEvent(e) { if (e.fail) throw new Error("no"); return e; }"#])
        defer { try? FileManager.default.removeItem(at: root) }
        let events = #"{"messageId":"1"}"# + "\n" + #"{"messageId":"2","fail":true}"# + "\n"
        let failing = try sluice(["run", "t.js", "--fail-on-error", "--isolation", "in-process"], stdin: events, directory: root)
        #expect(failing.status == 1)
        #expect(failing.lines.count == 2)  // the results are all written first
        #expect(failing.stderr.hasPrefix("sluice run: 2 events → 1 output, 0 dropped, 1 failed (1 exception) in "))
        #expect(try sluice(["run", "t.js", "--isolation", "in-process"], stdin: events, directory: root).status == 0)
        let clean = try sluice(["run", "t.js", "--fail-on-error", "--isolation", "in-process"], stdin: #"{"messageId":"1"}"#, directory: root)
        #expect(clean.status == 0)
        #expect(clean.stderr.hasPrefix("sluice run: 1 event → 1 output, 0 dropped, 0 failed in "))
    }

    @Test func quietTestPrintsOnlyFailuresAndTheSummary() throws {
        let root = try folder(Self.project)
        defer { try? FileManager.default.removeItem(at: root) }
        let quiet = try sluice(["test", "--quiet", "--isolation", "in-process"], directory: root)
        #expect(quiet.status == 1)
        #expect(quiet.lines == ["✗ a/bad", "    input line 1, messageId 2:", "      $[0].output.seen: false → true", "2 passed, 1 failed; 3 events → 3 outputs, 0 dropped, 0 failed"])
        let all = try sluice(["test", "--isolation", "in-process"], directory: root)
        #expect(all.lines.filter { $0.hasPrefix("✓") } == ["✓ a/good", "✓ b/only"])
    }

    @Test func colourFollowsTheFlagNoColorAndTheTerminal() throws {
        let root = try folder(Self.project)
        defer { try? FileManager.default.removeItem(at: root) }
        let escape = "\u{1B}["
        let always = try sluice(["test", "--color", "always", "--isolation", "in-process"], directory: root, environment: ["NO_COLOR": "1"])
        #expect(always.stdout.contains(escape + "32m✓" + escape + "0m a/good"))
        #expect(always.stdout.contains(escape + "33m      $[0].output.seen: false → true" + escape + "0m"))
        #expect(!(try sluice(["test", "--color", "never", "--isolation", "in-process"], directory: root).stdout.contains(escape)))
        #expect(!(try sluice(["test", "--isolation", "in-process"], directory: root).stdout.contains(escape)))  // a pipe
        let bad = try sluice(["test", "--color", "sometimes"], directory: root)
        #expect(bad.status == 64 && bad.stderr.contains("--color must be auto, always or never (got sometimes)"))

        guard let terminal = try Self.onTerminal(["test", "--isolation", "in-process"], directory: root) else { return }
        #expect(terminal.status == 1)
        #expect(terminal.stdout.contains(escape + "32m✓" + escape + "0m a/good"))
        let noColor = try #require(try Self.onTerminal(["test", "--isolation", "in-process"], directory: root, environment: ["NO_COLOR": "1"]))
        #expect(noColor.stdout.contains("✓ a/good") && !noColor.stdout.contains(escape))
        let never = try #require(try Self.onTerminal(["test", "--color", "never", "--isolation", "in-process"], directory: root))
        #expect(!never.stdout.contains(escape))
    }

    @Test func aLongRunDrawsAProgressLineOnATerminalOnly() throws {
        // 300 events of 5 ms each in batches of 10: about 1.5 s, past the line's 1 s delay.
        let root = try folder(["slow.js": "export function transformEvent(e) { const end = Date.now() + 5; while (Date.now() < end) {} return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in.ndjson")
        try Data((1...300).map { #"{"messageId":"\#($0)"}"# + "\n" }.joined().utf8).write(to: input)
        let arguments = ["run", "slow.js", "--input", input.path, "--batch-size", "10", "--jobs", "1", "--isolation", "in-process"]
        // No terminal: no line.
        let piped = try sluice(arguments, directory: root)
        #expect(piped.lines.count == 300)
        #expect(!piped.stderr.contains("events/s") && !piped.stderr.contains("\r"))

        let results = root.appendingPathComponent("out.ndjson").path
        guard let terminal = try Self.onTerminal(arguments, directory: root, redirectingOutputTo: results) else { return }
        #expect(terminal.status == 0)
        #expect(try String(contentsOfFile: results, encoding: .utf8).split(separator: "\n").count == 300)
        let shown = terminal.stdout
        #expect(shown.contains("\r\u{1B}[Ksluice run: "), "\(shown.debugDescription)")
        #expect(shown.contains(" events/s, 0 failed, "))
        // Erased before the summary.
        #expect(shown.contains("\r\u{1B}[Ksluice run: 300 events → 300 outputs, 0 dropped, 0 failed in "), "\(shown.debugDescription)")
        // --quiet: neither.
        let quiet = try #require(try Self.onTerminal(arguments + ["--quiet"], directory: root, redirectingOutputTo: results))
        #expect(!quiet.stdout.contains("sluice run"))
    }

    @Test func testInsideATransformationFolderTestsThatFolder() throws {
        let root = try folder(Self.project)
        defer { try? FileManager.default.removeItem(at: root) }
        let inside = try sluice(["test", "--isolation", "in-process"], directory: root.appendingPathComponent("transformations/b"))
        #expect(inside.status == 0, "\(inside.stdout)\(inside.stderr)")
        #expect(inside.lines == ["✓ b/only", "1 passed, 0 failed; 1 event → 1 output, 0 dropped, 0 failed"])
        let inCase = try sluice(["test", "--isolation", "in-process"], directory: root.appendingPathComponent("transformations/a/tests/good"))
        #expect(inCase.lines == ["✓ a/good", "1 passed, 0 failed; 1 event → 1 output, 0 dropped, 0 failed"])
        let nowhere = try sluice(["test"], directory: root.appendingPathComponent("transformations/a/tests"))
        #expect(nowhere.status == 1)
        #expect(nowhere.stderr.contains("transformations: no such folder"))
    }
}
