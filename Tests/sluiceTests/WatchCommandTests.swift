import Foundation
import Glibc
import Testing

/// A command left running (`--watch`), its output collected as it comes.
final class RunningCommand: @unchecked Sendable {
    // @unchecked: the collected text is guarded by `lock`.
    let process = Process()
    private let lock = NSLock()
    private var collected = ["", ""]

    init(_ arguments: [String], directory: URL, environment: [String: String] = [:]) throws {
        process.executableURL = sluiceBinary
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let pipes = [Pipe(), Pipe()]
        process.standardOutput = pipes[0]
        process.standardError = pipes[1]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        ServerProcesses.started(process)
        for (index, pipe) in pipes.enumerated() {
            let reader = pipe.fileHandleForReading
            Thread {
                while true {
                    let chunk = reader.availableData
                    if chunk.isEmpty { return }
                    self.lock.withLock { self.collected[index] += String(decoding: chunk, as: UTF8.self) }
                }
            }.start()
        }
    }

    var stdout: String { lock.withLock { collected[0] } }
    var stderr: String { lock.withLock { collected[1] } }

    /// Waits (up to `seconds`) until `condition` holds for (stdout, stderr).
    @discardableResult
    func wait(seconds: Double = 60, until condition: (String, String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(stdout, stderr) { return true }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return condition(stdout, stderr)
    }

    /// Sends SIGINT (Ctrl-C) and waits up to 20 s for the exit; its status, or nil if it did not exit.
    func interrupt() -> Int32? {
        kill(process.processIdentifier, SIGINT)
        let deadline = Date().addingTimeInterval(20)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            return nil
        }
        return process.terminationStatus
    }

    deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
}

func occurrences(of text: String, in string: String) -> Int { string.components(separatedBy: text).count - 1 }

/// Replaces a file the way editors that save by renaming do: a new file, renamed over the old one.
func save(_ text: String, to url: URL) throws {
    let temporary = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + ".tmp")
    try Data(text.utf8).write(to: temporary)
    guard rename(temporary.path, url.path) == 0 else { throw CocoaError(.fileWriteUnknown) }
}

/// Whether process `pid` exists and is not a zombie waiting to be reaped.
func isAlive(_ pid: Int32) -> Bool {
    guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
    return !stat[stat.index(after: close)...].hasPrefix(" Z")
}

@Suite(.serialized) struct WatchCommand {
    static let project: [String: String] = [
        "libraries/tag.js": #"export const tag = () => "v1";"#,
        "libraries/other.js": "export const other = 1;",
        "transformations/a/transform.js": #"import { tag } from "tag"; export function transformEvent(e) { return { ...e, tag: tag() }; }"#,
        "transformations/a/tests/one/input.ndjson": #"{"messageId":"1"}"# + "\n",
        "transformations/a/tests/one/expected.ndjson": #"{"output":{"messageId":"1","tag":"v1"},"metadata":{"messageId":"1"}}"# + "\n",
        "transformations/b/transform.js": "export function transformEvent(e) { return e; }",
        "transformations/b/tests/two/input.ndjson": #"{"messageId":"2"}"# + "\n",
        "transformations/b/tests/two/expected.ndjson": #"{"output":{"messageId":"2"},"metadata":{"messageId":"2"}}"# + "\n",
    ]

    @Test func testWatchRunsOnlyTheCasesAChangeAffectsUntilCtrlC() throws {
        let root = try folder(Self.project)
        defer { try? FileManager.default.removeItem(at: root) }
        let watching = "watching for changes (Ctrl-C to stop)"
        // CI (set on the CI machine) would keep the new case's expectation from being recorded: a developer's watch.
        let command = try RunningCommand(["test", "--watch", "--jobs", "1"], directory: root, environment: ["CI": ""])
        #expect(command.wait { out, _ in out.contains(watching) }, "\(command.stdout)\(command.stderr)")
        #expect(command.stdout == "✓ a/one\n✓ b/two\n2 passed, 0 failed; 2 events → 2 outputs, 0 dropped, 0 failed\n" + watching + "\n")
        let workers = ServeCommand.workerPids(of: command.process.processIdentifier)
        #expect(!workers.isEmpty)

        // A library: the cases of the transformation importing it run again, and fail.
        var seen = command.stdout.count
        try save(#"export const tag = () => "v2";"#, to: root.appendingPathComponent("libraries/tag.js"))
        #expect(command.wait { out, _ in occurrences(of: watching, in: out) == 2 }, "\(command.stdout)")
        var latest = String(command.stdout.dropFirst(seen))
        #expect(latest == """

            changed: libraries/tag.js
            ✗ a/one
                input line 1, messageId 1:
                  $[0].output.tag: "v1" → "v2"
            ran 1 case again: 0 passed, 1 failed; 1 event → 1 output, 0 dropped, 0 failed
            all 2 cases: 1 passed, 1 failed; 2 events → 2 outputs, 0 dropped, 0 failed
            \(watching)

            """)

        // The case's expectation: that case.
        seen = command.stdout.count
        try save(#"{"output":{"messageId":"1","tag":"v2"},"metadata":{"messageId":"1"}}"# + "\n",
                 to: root.appendingPathComponent("transformations/a/tests/one/expected.ndjson"))
        #expect(command.wait { out, _ in occurrences(of: watching, in: out) == 3 }, "\(command.stdout)")
        latest = String(command.stdout.dropFirst(seen))
        #expect(latest.contains("changed: transformations/a/tests/one/expected.ndjson\n✓ a/one\nran 1 case again: 1 passed, 0 failed"))
        #expect(latest.contains("all 2 cases: 2 passed, 0 failed"))

        // A library nobody imports: nothing runs.
        try save("export const other = 2;", to: root.appendingPathComponent("libraries/other.js"))
        Thread.sleep(forTimeInterval: 1)
        #expect(occurrences(of: watching, in: command.stdout) == 3)

        // A new case in a new folder: it runs, alone; its missing expectation is recorded and fails.
        seen = command.stdout.count
        try FileManager.default.createDirectory(at: root.appendingPathComponent("transformations/b/tests/three"), withIntermediateDirectories: true)
        try Data(#"{"messageId":"3"}"#.utf8).write(to: root.appendingPathComponent("transformations/b/tests/three/input.ndjson"))
        #expect(command.wait { out, _ in occurrences(of: watching, in: out) == 4 }, "\(command.stdout)")
        latest = String(command.stdout.dropFirst(seen))
        #expect(latest.contains("✗ b/three\n    no expected.ndjson: recorded 1 line; review and commit it"))
        #expect(!latest.contains("a/one") && !latest.contains("b/two"))
        // Recording it is not a change that runs it again.
        Thread.sleep(forTimeInterval: 1)
        #expect(occurrences(of: watching, in: command.stdout) == 4)

        // Ctrl-C: exit status 0, the worker processes gone.
        #expect(command.interrupt() == 0)
        Thread.sleep(forTimeInterval: 0.5)
        #expect(!workers.contains(where: isAlive), "worker processes left: \(workers)")
        #expect(command.stderr == "")
    }

    @Test func runWatchRunsAgainForTheTransformationItsLibrariesAndItsInputAndSurvivesACompileError() throws {
        let root = try folder(Self.project.merging([
            "t.js": #"import { tag } from "tag"; export function transformEvent(e) { return { ...e, tag: tag() }; }"#,
            "in.ndjson": #"{"messageId":"1"}"# + "\n",
        ]) { $1 })
        defer { try? FileManager.default.removeItem(at: root) }
        let watching = "watching for changes (Ctrl-C to stop)"
        let command = try RunningCommand(["run", "t.js", "--input", "in.ndjson", "--watch", "--isolation", "in-process"], directory: root)
        // (Standard output and standard error are read by separate threads: wait for both.)
        #expect(command.wait { out, err in err.contains(watching) && out.hasSuffix("\n") }, "\(command.stderr)")
        #expect(command.stdout == #"{"output":{"messageId":"1","tag":"v1"},"metadata":{"messageId":"1"}}"# + "\n")

        try save(#"export const tag = () => "v2";"#, to: root.appendingPathComponent("libraries/tag.js"))
        #expect(command.wait { out, err in occurrences(of: watching, in: err) == 2 && out.contains(#""tag":"v2""#) }, "\(command.stderr)")
        #expect(command.stdout.hasSuffix(#"{"output":{"messageId":"1","tag":"v2"},"metadata":{"messageId":"1"}}"# + "\n"))
        #expect(command.stderr.contains("changed: libraries/tag.js\nsluice run: 1 event → 1 output, 0 dropped, 0 failed in "))

        // A compile error is reported and the watch goes on.
        try save("export function transformEvent(e) { return {; }", to: root.appendingPathComponent("t.js"))
        #expect(command.wait { _, err in occurrences(of: watching, in: err) == 3 }, "\(command.stderr)")
        #expect(command.stderr.contains("changed: t.js\nsluice run: t.js: "), "\(command.stderr)")

        // Files it does not depend on: nothing runs.
        try save("export const other = 2;", to: root.appendingPathComponent("libraries/other.js"))
        try save("export function transformEvent(e) { return null; }", to: root.appendingPathComponent("transformations/b/transform.js"))
        Thread.sleep(forTimeInterval: 1)
        #expect(occurrences(of: watching, in: command.stderr) == 3)

        // The input.
        let outputs = command.stdout.count
        try save(#"{"messageId":"1"}"# + "\n" + #"{"messageId":"2"}"# + "\n", to: root.appendingPathComponent("in.ndjson"))
        try save(#"export function transformEvent(e) { return { ...e, fixed: true }; }"#, to: root.appendingPathComponent("t.js"))
        #expect(command.wait { out, err in occurrences(of: #""fixed":true"#, in: out) == 2 && occurrences(of: watching, in: err) >= 4 },
                "\(command.stderr)")
        #expect(String(command.stdout.dropFirst(outputs)) == """
            {"output":{"messageId":"1","fixed":true},"metadata":{"messageId":"1"}}
            {"output":{"messageId":"2","fixed":true},"metadata":{"messageId":"2"}}

            """)
        #expect(command.interrupt() == 0)
    }

    @Test func watchNeedsAnInputFileAndWritesNoReports() throws {
        let root = try folder(Self.project)
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try sluice(["run", "transformations/b", "--watch"], directory: root)
        #expect(run.status == 64)
        #expect(run.stderr.contains("--watch needs --input FILE: standard input cannot be read again"))
        let test = try sluice(["test", "--watch", "--junit", "r.xml"], directory: root)
        #expect(test.status == 64)
        #expect(test.stderr.contains("--watch writes no reports: drop --junit and --json"))
        #expect(try sluice(["test", "--watch", "--update"], directory: root).status == 64)
    }
}
