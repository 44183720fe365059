import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

let pythonLibraries = InMemoryLibraries([
    LibrarySource(importName: "hashing", language: .python, fileName: "hashing.py", code: """
    import hashlib

    __all__ = ["sha256_hex", "shout"]

    def sha256_hex(text):
        return hashlib.sha256(text.encode()).hexdigest()

    def shout(text):
        return text.upper()

    def _private():
        return "hidden"
    """),
    LibrarySource(importName: "greet", language: .python, fileName: "greet.py", code: """
    from hashing import shout

    def greeting(name):
        return "hello " + shout(name)
    """),
    LibrarySource(importName: "counter", language: .python, fileName: "counter.py", code: """
    count = 0

    def next_value():
        global count
        count += 1
        return count
    """),
    LibrarySource(importName: "thrower", language: .python, fileName: "thrower.py", code: """
    def fail(message):
        raise ValueError(message)
    """),
    LibrarySource(importName: "cycleA", language: .python, fileName: "cycleA.py", code: "import cycleB\n"),
    LibrarySource(importName: "cycleB", language: .python, fileName: "cycleB.py", code: "import cycleA\n"),
])



@Suite struct PythonImports {
    @Test func importForms() throws {
        let code = """
        import hashing
        from hashing import sha256_hex
        from hashing import shout as loud
        from greet import *

        def transformEvent(event, metadata):
            return {"a": hashing.sha256_hex("abc")[:8], "b": sha256_hex("abc")[:8], "c": loud("x"), "d": greeting("ada")}
        """
        #expect(try pythonLines(code, ["{}"], libraries: pythonLibraries) == [#"0 output {"a":"ba7816bf","b":"ba7816bf","c":"X","d":"hello ADA"}"#])
    }

    @Test func starImportHonoursAll() throws {
        let code = "from hashing import *\n\ndef transformEvent(event, metadata):\n    return {\"names\": sorted(n for n in ('sha256_hex', 'shout', '_private') if n in globals())}\n"
        // globals() is refused in user code; use a try to show it.
        #expect(try pythonLines(code, ["{}"], libraries: pythonLibraries) == [
            "0 exception: PermissionError: globals() is not available in transformations",
        ])
        let plain = "from hashing import *\n\ndef transformEvent(event, metadata):\n    return {\"shout\": shout('a'), \"private\": '_private' in dir()}\n"
        #expect(try pythonLines(plain, ["{}"], libraries: pythonLibraries) == [#"0 output {"shout":"A","private":false}"#])
    }

    @Test func missingLibraryNamesTheTransformation() {
        #expect(pythonCompileError("import nowhere\n\ndef transformEvent(e, m):\n    return e\n", libraries: pythonLibraries)
            == "ModuleNotFoundError: No module named 'nowhere' (imported by transform.py)")
    }

    @Test func cycleIsACompileError() {
        #expect(pythonCompileError("import cycleA\n\ndef transformEvent(e, m):\n    return e\n", libraries: pythonLibraries)
            == "ImportError: import cycle cycleA → cycleB → cycleA")
    }

    @Test func libraryStateIsFreshForEveryBatch() throws {
        let compiled = try PythonEngine.shared.compile(TransformationSource(name: "t", language: .python, fileName: "t.py", code: """
        from counter import next_value
        seen = []

        def transformEvent(event, metadata):
            seen.append(1)
            return {"n": next_value(), "seen": len(seen)}
        """), libraries: pythonLibraries)
        let batch = Batch(items: items(["{}", "{}"]))
        for _ in 0..<2 {
            #expect(PythonEngine.shared.run(compiled, batch: batch, limits: .defaults).results.map { render($0) }
                == [#"0 output {"n":1,"seen":1}"#, #"1 output {"n":2,"seen":2}"#])
        }
    }

    @Test func tracebacksShowUserAndLibraryFrames() throws {
        let code = "from thrower import fail\n\ndef transformEvent(event, metadata):\n    fail(\"from library\")\n"
        let result = try runPython(code, ["{}"], libraries: pythonLibraries)
        #expect(result.results.map { render($0, fullMessages: true) } == [
            "0 exception: ValueError: from library\n  File \"transform.py\", line 4, in transformEvent\n    fail(\"from library\")\n  File \"thrower.py\", line 2, in fail\n    raise ValueError(message)",
        ])
    }

    @Test(arguments: ["json", "re", "math", "datetime", "time", "hashlib", "hmac", "base64", "uuid", "random", "string",
                      "decimal", "fractions", "statistics", "itertools", "functools", "collections", "copy", "urllib.parse",
                      "ipaddress", "unicodedata", "typing", "dataclasses", "enum", "zoneinfo"])
    func allowedStandardLibrary(_ module: String) throws {
        #expect(try pythonLines("import \(module)\n\ndef transformEvent(event, metadata):\n    return {\"ok\": True}\n", ["{}"]) == [#"0 output {"ok":true}"#])
    }

    @Test(arguments: ["os", "sys", "subprocess", "socket", "ctypes", "importlib", "builtins", "gc", "inspect", "signal", "threading", "pickle"])
    func refusedImportsAtCompileTime(_ module: String) {
        #expect(pythonCompileError("import \(module)\n\ndef transformEvent(e, m):\n    return e\n")
            == "ImportError: import of '\(module)' is not allowed in transformations (transform.py)")
    }

    @Test func refusedImportsAtRunTime() throws {
        let code = "def transformEvent(event, metadata):\n    return {\"os\": __import__(\"os\").name}\n"
        #expect(try pythonLines(code, ["{}"]) == ["0 exception: ImportError: import of 'os' is not allowed in transformations"])
    }

    @Test(arguments: ["open('/etc/passwd')", "eval('1')", "exec('x = 1')", "compile('1', 'f', 'eval')", "input()", "breakpoint()"])
    func refusedBuiltins(_ call: String) throws {
        let name = String(call.prefix { $0 != "(" })
        #expect(try pythonLines("def transformEvent(event, metadata):\n    \(call)\n    return event\n", ["{}"])
            == ["0 exception: PermissionError: \(name)() is not available in transformations"])
    }

    @Test func relativeImportsAreRefused() {
        #expect(pythonCompileError("from . import x\n\ndef transformEvent(e, m):\n    return e\n")
            == "ImportError: relative imports are not supported (transform.py imports .)")
    }

    @Test func entryPointErrors() {
        #expect(pythonCompileError("def transform(e, m):\n    return e\n")
            == "transform.py must define a function transformEvent(event, metadata) or transformBatch(events, metadata)")
        #expect(pythonCompileError("def transformEvent(e, m):\n    return e\n\ndef transformBatch(e, m):\n    return e\n")
            == "transform.py defines both transformEvent and transformBatch; define exactly one")
        #expect(pythonCompileError("def transformEvent(e, m):\n    return e +\n")
            == "SyntaxError: invalid syntax (transform.py, line 2, column 15)")
    }

    @Test func logAndGetCredential() throws {
        let code = "def transformEvent(event, metadata):\n    log(\"value\", 1, {\"a\": [None]}, None)\n    return {\"k\": getCredential(\"key\"), \"none\": getCredential(\"nope\")}\n"
        let result = try runPython(code, [#"{"messageId":"m"}"#], credentials: ["key": "v"])
        #expect(result.results.map { render($0) } == [#"0 output {"k":"v","none":null}"#])
        #expect(result.logs == [LogLine(inputIndex: 0, messageId: "m", text: #"value 1 {"a":[null]} null"#)])
    }
}

@Suite(.serialized) struct PythonLimits {
    func timed(_ code: String, _ inputs: [String], limits: Limits) throws -> (lines: [String], milliseconds: Double) {
        try timedLines(code, inputs, on: PythonEngine.shared, limits: limits)
    }

    @Test func anInfiniteLoopEndsWithinTheLimitPlus50Milliseconds() throws {
        let code = "def transformEvent(event, metadata):\n    if event.get(\"spin\"):\n        while True:\n            pass\n    return event\n"
        let (result, elapsed) = try retryingIfSlowerThan(250) { try timed(code, [#"{"spin":true}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 200)) }
        #expect(result == ["0 time_limit: time limit of 200 ms exceeded", #"1 output {"b":2}"#])
        #expect(elapsed < 250, "took \(elapsed) ms")
    }

    @Test func sleepAndCatastrophicRegexAreStopped() throws {
        let code = """
        import re
        import time

        def transformEvent(event, metadata):
            if event.get("sleep"):
                time.sleep(30)
            if event.get("regex"):
                re.match(r"(a+)+$", "a" * 40 + "b")
            return event
        """
        let (result, elapsed) = try retryingIfSlowerThan(300) { try timed(code, [#"{"sleep":true}"#, #"{"regex":true}"#, "{}"], limits: Limits(timeMilliseconds: 100)) }
        #expect(result == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded", "2 output {}"])
        #expect(elapsed < 300, "took \(elapsed) ms")
    }

    @Test func exceptExceptionDoesNotSwallowTheLimit() throws {
        let code = "def transformEvent(event, metadata):\n    try:\n        while True:\n            pass\n    except Exception:\n        return {\"caught\": True}\n"
        #expect(try timed(code, ["{}"], limits: Limits(timeMilliseconds: 100)).lines == ["0 time_limit: time limit of 100 ms exceeded"])
    }

    @Test func aMemoryBombEndsWithTheMemoryLimitAndMemoryIsReleased() throws {
        let code = "def transformEvent(event, metadata):\n    if event.get(\"bomb\"):\n        a = []\n        while True:\n            a.append('x' * 10**6)\n    return event\n"
        let (result, _) = try timed(code, [#"{"bomb":true}"#, #"{"b":2}"#, #"{"bomb":true}"#, #"{"c":3}"#], limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 64))
        #expect(result == ["0 memory_limit: memory limit of 64 MB exceeded", #"1 output {"b":2}"#, "2 memory_limit: memory limit of 64 MB exceeded", #"3 output {"c":3}"#])
    }

    @Test func moduleLevelStateIsReleasedAfterAMemoryHit() throws {
        let code = "keep = []\n\ndef transformEvent(event, metadata):\n    if event.get(\"bomb\"):\n        while True:\n            keep.append('y' * 10**6)\n    return {\"kept\": len(keep)}\n"
        #expect(try timed(code, [#"{"bomb":true}"#, "{}"], limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 64)).lines
            == ["0 memory_limit: memory limit of 64 MB exceeded", #"1 output {"kept":0}"#])
    }

    @Test func userCodeRunWhileSerialisingIsUnderTheLimit() throws {
        let code = "class D(dict):\n    def items(self):\n        while True:\n            pass\n\ndef transformEvent(event, metadata):\n    return D(event)\n"
        #expect(try timed(code, [#"{"a":1}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 100)).lines
            == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded"])
    }

    @Test func aSlowExceptionMessageCannotTakeTheBatchDown() throws {
        let code = """
        import time

        class Slow(Exception):
            def __str__(self):
                time.sleep(5)
                return "slow"

        def transformEvent(event, metadata):
            if event.get("n") == 2:
                raise Slow()
            return event
        """
        #expect(try timed(code, [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#], limits: Limits(timeMilliseconds: 100)).lines
            == [#"0 output {"n":1}"#, "1 exception: Slow: (its message could not be produced)", #"2 output {"n":3}"#])
    }

    @Test func aMemoryLimitIsPerCall() throws {
        // Each call keeps 2 MB alive in its output; a 16 MB budget per call is plenty.
        let code = "def transformEvent(event, metadata):\n    return {\"blob\": 'x' * (2 << 20)}\n"
        let inputs = Array(repeating: "{}", count: 20)
        let result = try timed(code, inputs, limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 16)).lines
        #expect(result.filter { $0.contains("memory_limit") }.isEmpty)
        #expect(result.count == 20)
    }

    @Test func deepRecursionIsARecursionError() throws {
        let code = "def down(n):\n    return down(n + 1)\n\ndef transformEvent(event, metadata):\n    return down(0)\n"
        let result = try runPython(code, ["{}"])
        let message = result.results.first.map { render($0, fullMessages: true) } ?? ""
        #expect(message.hasPrefix("0 exception: RecursionError: maximum recursion depth exceeded"))
        #expect(message.contains("[Previous line repeated"))
        #expect(try pythonLines("def transformEvent(event, metadata):\n    return event\n", ["{}"]) == ["0 output {}"])
    }
}

@Suite struct PythonFidelity {
    static let identity = "def transformEvent(event, metadata):\n    return event\n"

    @Test(arguments: [
        #"{"text":"héllo wörld ✓ 日本語 🎉","escapes":"quote \" backslash \\ tab \t newline \n"}"#,
        #"{"big":123456789012345678901234567890,"max":9007199254740993,"negative":-17,"float":0.1,"exp":1.5e+300,"tiny":5e-324}"#,
        #"{"empty":{},"emptyArray":[],"nested":{"a":[{},[[]],{"b":null}]},"bools":[true,false],"null":null}"#,
    ])
    func valuesSurviveUnchanged(_ input: String) throws {
        #expect(try pythonLines(Self.identity, [input]) == ["0 output \(input)"])
    }

    @Test func deepNesting() throws {
        let deep = String(repeating: #"{"a":"#, count: 200) + "1" + String(repeating: "}", count: 200)
        #expect(try pythonLines(Self.identity, [deep]) == ["0 output \(deep)"])
    }

    @Test func unserialisableResultsNameTheType() throws {
        let code = """
        import datetime

        def transformEvent(event, metadata):
            kind = event["kind"]
            if kind == "set":
                return {"s": {1, 2}}
            if kind == "datetime":
                return {"d": datetime.datetime(2026, 1, 1)}
            if kind == "nan":
                return {"n": float("nan")}
            return event
        """
        #expect(try pythonLines(code, [#"{"kind":"set"}"#, #"{"kind":"datetime"}"#, #"{"kind":"nan"}"#, #"{"kind":"ok"}"#]) == [
            "0 unserializable_result: TypeError: Object of type set is not JSON serializable",
            "1 unserializable_result: TypeError: Object of type datetime is not JSON serializable",
            "2 unserializable_result: ValueError: Out of range float values are not JSON compliant",
            #"3 output {"kind":"ok"}"#,
        ])
    }

    @Test func loneSurrogatesSurviveInOutputsAndLogs() throws {
        let code = "def transformEvent(event, metadata):\n    log(event[\"x\"])\n    return event\n"
        let result = try runPython(code, [#"{"x":"\ud800"}"#, #"{"x":"ok"}"#])
        #expect(result.results.map { render($0) } == [#"0 output {"x":"\ud800"}"#, #"1 output {"x":"ok"}"#])
        #expect(result.logs.map(\.text) == ["\u{FFFD}", "ok"])
    }

    @Test func invalidInputsHaveEmptyMetadata() throws {
        let result = try runPython(Self.identity, ["{bad", "[1]"])
        #expect(result.results.map { String(decoding: $0.metadata, as: UTF8.self) } == ["{}", "{}"])
    }

    @Test func patchingTheStandardLibraryDoesNotChangeWhatTheEngineWrites() throws {
        let patch = """
        import json

        def transformEvent(event, metadata):
            json.JSONEncoder.encode = lambda self, o: '{"hijacked":true}'
            json.JSONEncoder.iterencode = lambda self, o, _one_shot=False: ['{"hijacked":true}']
            json.loads = lambda s: {"hijacked": True}
            return event
        """
        let compiled = try PythonEngine.shared.compile(TransformationSource(name: "p", language: .python, fileName: "p.py", code: patch), libraries: NoLibraries())
        _ = PythonEngine.shared.run(compiled, batch: Batch(items: items([#"{"a":1}"#])), limits: .defaults)
        #expect(try pythonLines(Self.identity, [#"{"b":2}"#]) == [#"0 output {"b":2}"#])
    }

    @Test func invalidUTF8FailsAlone() throws {
        var inputs: [JSONText] = [Array(#"{"a":1}"#.utf8)]
        inputs.append([0x7B, 0x22, 0x62, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D])
        inputs.append(Array(#"{"c":3}"#.utf8))
        let compiled = try PythonEngine.shared.compile(TransformationSource(name: "t", language: .python, fileName: "t.py", code: Self.identity), libraries: NoLibraries())
        let result = PythonEngine.shared.run(compiled, batch: Batch(items: inputs), limits: .defaults)
        #expect(result.results.map { render($0) } == [
            #"0 output {"a":1}"#, "1 invalid_input: invalid JSON: the text is not valid UTF-8", #"2 output {"c":3}"#,
        ])
    }
}
