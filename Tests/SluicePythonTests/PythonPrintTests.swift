import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// `print()` is captured like `log()`: each printed line is a log line of the call that printed
/// it, and nothing user code writes reaches the process's standard output or error.
@Suite struct PythonPrint {
    func logs(_ result: BatchResult) -> [String] {
        result.logs.map { "\($0.inputIndex.map(String.init) ?? "-") \($0.messageId ?? "") \($0.text)" }
    }

    @Test func printedLinesAreLogLinesOfTheirEvent() throws {
        let code = """
        print("loaded")

        def transformEvent(event, metadata):
            print("saw", event["messageId"], {"n": 1}, sep=" | ")
            print("two\\nlines")
            print("no end ", end="")
            print("…joined", 42)
            print("tail without newline", end="")
            log("after print")
            return event
        """
        let result = try runPython(code, [#"{"messageId":"m1"}"#, #"{"messageId":"m2"}"#])
        #expect(result.results.map { render($0) } == [#"0 output {"messageId":"m1"}"#, #"1 output {"messageId":"m2"}"#])
        // The unfinished line is logged when its call ends, after what log() recorded meanwhile.
        let perEvent = { (index: Int, id: String) in [
            "\(index) \(id) saw | \(id) | {'n': 1}", "\(index) \(id) two", "\(index) \(id) lines",
            "\(index) \(id) no end …joined 42", "\(index) \(id) after print", "\(index) \(id) tail without newline",
        ] }
        #expect(logs(result) == ["-  loaded"] + perEvent(0, "m1") + perEvent(1, "m2"))
    }

    @Test func theStandardLibrarysOwnPrintingIsCapturedToo() throws {
        // calendar.prmonth prints with the real print() to sys.stdout.
        let code = """
        import calendar

        def transformEvent(event, metadata):
            calendar.prmonth(2026, 2)
            return None
        """
        let lines = logs(try runPython(code, [#"{"messageId":"c"}"#]))
        #expect(lines.first == "0 c    February 2026")
        #expect(lines.contains("0 c Mo Tu We Th Fr Sa Su"))
        #expect(lines.count == 7)
    }

    @Test func printWithAFileArgumentWritesToThatObject() throws {
        let code = """
        class Sink:
            def __init__(self):
                self.parts = []
            def write(self, text):
                self.parts.append(text)

        def transformEvent(event, metadata):
            sink = Sink()
            print("to the sink", file=sink)
            print("to the log", file=None)
            return {"sink": "".join(sink.parts)}
        """
        let result = try runPython(code, ["{}"])
        #expect(result.results.map { render($0) } == [#"0 output {"sink":"to the sink\n"}"#])
        #expect(logs(result) == ["0  to the log"])
    }

    @Test func printingMegabytesStaysWithinTheMemoryLimitAndTheEvent() throws {
        // 8 lines of 1 MB each per event are logged; printing past the memory limit fails only
        // that event, and its unfinished line is dropped, never logged past the limit.
        let code = """
        def transformEvent(event, metadata):
            if event.get("flood"):
                while True:
                    print("y" * 1_000_000, end="")
            for _ in range(8):
                print("x" * 1_000_000)
            return {"ok": True}
        """
        let result = try runPython(code, [#"{"messageId":"a"}"#, #"{"messageId":"b","flood":true}"#, #"{"messageId":"c"}"#],
                                   limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 64))
        #expect(result.results.map { render($0) } == [
            #"0 output {"ok":true}"#, "1 memory_limit: memory limit of 64 MB exceeded", #"2 output {"ok":true}"#,
        ])
        let megabyteLines = result.logs.filter { $0.text.utf8.count == 1_000_000 && $0.text.allSatisfy { $0 == "x" } }
        #expect(megabyteLines.count == 16)
        #expect(megabyteLines.compactMap(\.messageId) == Array(repeating: "a", count: 8) + Array(repeating: "c", count: 8))
        #expect(result.logs.count == 16)
    }

    @Test func aValueThatCannotBePrintedFailsOnlyItsOwnEvent() throws {
        let code = """
        class Unprintable:
            def __str__(self):
                raise ValueError("no text for you")

        def transformEvent(event, metadata):
            print("before", b"bytes")
            if event.get("bad"):
                print(Unprintable())
            return event
        """
        let result = try runPython(code, [#"{"bad":true}"#, "{}"])
        #expect(result.results.map { render($0) } == ["0 exception: ValueError: no text for you", "1 output {}"])
        #expect(logs(result) == ["0  before b'bytes'", "1  before b'bytes'"])
    }
}
