import Foundation
import Testing
import SluiceTestSupport

/// `sluice run` end to end: the real binary on real files.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
}

/// The `sluice` binary next to the test bundle.
let sluiceBinary: URL = {
    let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
    var directory = testBinary.deletingLastPathComponent()
    while directory.path != "/" {
        let candidate = directory.appendingPathComponent("sluice")
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        directory.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: ".build/debug/sluice")
}()

func sluice(_ arguments: [String], stdin: String? = nil, directory: URL? = nil, environment: [String: String] = [:]) throws -> CommandResult {
    let process = Process()
    process.executableURL = sluiceBinary
    process.arguments = arguments
    if !environment.isEmpty {
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    }
    if let directory { process.currentDirectoryURL = directory }
    let output = Pipe(), errors = Pipe(), input = Pipe()
    process.standardOutput = output
    process.standardError = errors
    process.standardInput = input
    try process.run()
    if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
    try input.fileHandleForWriting.close()
    let out = output.fileHandleForReading.readDataToEndOfFile()
    let err = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(status: process.terminationStatus, stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self))
}

/// A fresh temporary folder with the given files (relative path → contents).
func folder(_ files: [String: String]) throws -> URL {
    let root = URL(fileURLWithPath: TemporaryFolder.path("sluice-test"))
    for (path, contents) in files {
        let url = root.appendingPathComponent(path)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(contents.utf8).write(to: url)
    }
    return root
}

@Suite struct RunCommand {
    static let transform = """
    export function transformEvent(event, metadata) {
      log("saw", event.messageId);
      if (event.drop) return null;
      if (event.fail) throw new Error("bad event " + event.messageId);
      if (event.spin) { for (;;) {} }
      return { ...event, source: metadata(event).sourceId ?? null, key: getCredential("key") ?? null };
    }
    """

    @Test func ndjsonWithAMalformedLineBlankLinesAndEveryOutcome() throws {
        let root = try folder([
            "t.js": Self.transform,
            "in.ndjson": """
            {"messageId":"1"}

            {"message":{"messageId":"2"},"metadata":{"sourceId":"s2"}}
            {"messageId":"3","drop":true}
            {not json
            {"messageId":"4","fail":true}
            [1,2]
            """,
        ])
        let result = try sluice(["run", root.appendingPathComponent("t.js").path, "--input", root.appendingPathComponent("in.ndjson").path])
        #expect(result.status == 0)
        #expect(result.lines == [
            #"{"output":{"messageId":"1","source":null,"key":null},"metadata":{"messageId":"1"}}"#,
            #"{"output":{"messageId":"2","source":"s2","key":null},"metadata":{"sourceId":"s2"}}"#,
            #"{"dropped":true,"metadata":{"messageId":"3"}}"#,
            #"{"error":"line 5: invalid JSON: JSON Parse error: Expected '}'","kind":"invalid_input","metadata":{}}"#,
            #"{"error":"Error: bad event 4\n    at transformEvent (t.js:4:34)","kind":"exception","metadata":{"messageId":"4"}}"#,
            #"{"error":"line 7: invalid event: expected a JSON object, got an array","kind":"invalid_input","metadata":{}}"#,
        ])
        #expect(result.stderr.hasPrefix("sluice run: 6 events → 2 outputs, 1 dropped, 3 failed (1 exception, 2 invalid_input) in "))
    }

    @Test func aJSONArrayOnStandardInputWithLogsCredentialsAndATimeLimit() throws {
        let root = try folder(["t.js": Self.transform, "credentials.json": #"{"key":"k-123"}"#])
        let result = try sluice(
            ["run", root.appendingPathComponent("t.js").path, "--logs", "--quiet", "--time-limit-ms", "100",
             "--credentials", root.appendingPathComponent("credentials.json").path],
            stdin: #"[{"messageId":"a"}, {"messageId":"b","spin":true}, {"messageId":"c"}]"#
        )
        #expect(result.status == 0)
        #expect(result.stderr == "")
        #expect(result.lines == [
            #"{"log":"saw a","messageId":"a"}"#,
            #"{"output":{"messageId":"a","source":null,"key":"k-123"},"metadata":{"messageId":"a"}}"#,
            #"{"log":"saw b","messageId":"b"}"#,
            #"{"error":"time limit of 100 ms exceeded","kind":"time_limit","metadata":{"messageId":"b"}}"#,
            #"{"log":"saw c","messageId":"c"}"#,
            #"{"output":{"messageId":"c","source":null,"key":"k-123"},"metadata":{"messageId":"c"}}"#,
        ])
    }

    @Test func aFolderWithAManifestAndTheNearestLibrariesFolder() throws {
        let root = try folder([
            "libraries/shout.js": "export const shout = (s) => s.toUpperCase() + '!';",
            "transformations/loud/transformation.json": #"{"name": "loud", "entry": "main.js", "limits": {"timeMilliseconds": 50}}"#,
            "transformations/loud/main.js": """
            import { shout } from "shout";
            export function transformBatch(events) { return events.map(e => ({ ...e, text: shout(e.text) })); }
            """,
        ])
        let result = try sluice(["run", "transformations/loud", "--quiet"], stdin: #"{"messageId":"x","text":"hi"}"#, directory: root)
        #expect(result.status == 0)
        #expect(result.lines == [#"{"output":{"messageId":"x","text":"HI!"},"metadata":{"messageId":"x"}}"#])
    }

    @Test func compileErrorsAndMissingFilesExitWithStatus1() throws {
        let root = try folder(["bad.js": "export function transformEvent(e) {\n  return e +;\n}", "none.js": "export const x = 1;"])
        let bad = try sluice(["run", root.appendingPathComponent("bad.js").path], stdin: "")
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("bad.js: SyntaxError: Unexpected token ';' (bad.js:2:13)"))
        let none = try sluice(["run", root.appendingPathComponent("none.js").path], stdin: "")
        #expect(none.status == 1)
        #expect(none.stderr.contains("must export a function transformEvent(event, metadata) or transformBatch(events, metadata)"))
        let missing = try sluice(["run", root.appendingPathComponent("missing.js").path], stdin: "")
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("missing.js: no such file or folder"))
    }

    @Test func badArgumentsExitWithStatus64() throws {
        let result = try sluice(["run", "x.js", "--batch-size", "0"], stdin: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--batch-size must be at least 1"))
    }

    @Test func aPoisonEventGetsItsOwnErrorAndTheRunGoesOn() throws {
        let root = try folder([
            "loop.js": "export async function transformEvent(e) { if (e.loop) { for (;;) { await 0; } } return { n: e.n }; }",
            "loop.py": "def transformEvent(e, m):\n    if e.get('loop'):\n        sum(range(10**12))\n    return {'n': e['n']}\n",
        ])
        for file in ["loop.js", "loop.py"] {
            let start = Date()
            let result = try sluice(["run", root.appendingPathComponent(file).path, "--time-limit-ms", "100"],
                                    stdin: "{\"n\":1}\n{\"loop\":true,\"n\":2}\n{\"n\":3}\n")
            #expect(result.status == 0, "\(file): \(result.stderr)")
            #expect(result.lines == [#"{"output":{"n":1},"metadata":{}}"#, #"{"error":"time limit of 100 ms exceeded","kind":"time_limit","metadata":{}}"#,
                                     #"{"output":{"n":3},"metadata":{}}"#], "\(file)")
            #expect(result.stderr.contains("3 events → 2 outputs, 0 dropped, 1 failed (1 time_limit) in "), "\(file): \(result.stderr)")
            #expect(Date().timeIntervalSince(start) < 30)
        }
    }

    @Test func inProcessAPromiseJobLoopEndsTheProcessWithAClearMessage() throws {
        let root = try folder(["loop.js": "export async function transformEvent(e) { for (;;) { await 0; } }"])
        let start = Date()
        let result = try sluice(["run", root.appendingPathComponent("loop.js").path, "--time-limit-ms", "100", "--isolation", "in-process"], stdin: "{}\n")
        #expect(result.status == 70)
        #expect(result.stderr.contains("sluice: transformation loop ran"))
        #expect(result.stderr.contains("on input 0 of its batch, past its time limit of 100 ms, in code that cannot be interrupted in-process"))
        #expect(Date().timeIntervalSince(start) < 5)
    }
}

@Suite struct RunCommandPython {
    @Test func pythonTransformationsIgnoreThePythonEnvironment() throws {
        // A PYTHONPATH holding a fake "hashing" module must not be found, and PYTHONHOME must not
        // break start-up: the interpreter is isolated from the environment.
        let root = try folder([
            "evil/hashing.py": "def sha(x):\n    return 'evil'\n",
            "t.py": "import hashing\n\ndef transformEvent(event, metadata):\n    return event\n",
            "ok.py": "import json\n\ndef transformEvent(event, metadata):\n    event['n'] = json.loads('[1]')\n    return event\n",
        ])
        let environment = ["PYTHONPATH": root.appendingPathComponent("evil").path, "PYTHONHOME": "/nonexistent", "PYTHONSTARTUP": "/nonexistent"]
        let missing = try sluice(["run", root.appendingPathComponent("t.py").path, "--libraries", root.appendingPathComponent("none").path],
                                 stdin: "{}", environment: environment)
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("ModuleNotFoundError: No module named 'hashing' (imported by t.py; libraries searched: \(root.appendingPathComponent("none").standardizedFileURL.path))"))
        let ok = try sluice(["run", root.appendingPathComponent("ok.py").path, "--quiet"], stdin: #"{"a":1}"#, environment: environment)
        #expect(ok.status == 0)
        #expect(ok.lines == [#"{"output":{"a":1,"n":[1]},"metadata":{}}"#])
    }
}
