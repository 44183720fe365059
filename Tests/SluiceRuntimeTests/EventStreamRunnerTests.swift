#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceRuntime
import Testing

/// The streamed run: reading, the engine and writing on three threads must still give one line
/// per result, in input order, with invalid lines in their place.
@Suite struct EventStreamRunnerTests {
    let code = """
    export function transformEvent(event) {
      if (event.n % 5 === 0) return;
      if (event.n % 7 === 0) return [event, { n: -event.n }];
      return event;
    }
    """

    func stream(_ text: String, batchSize: Int, output: OutputWriter) throws -> StreamSummary {
        let compiled = try sharedRuntime.compile(TransformationSource(name: "t", language: .javascript, fileName: "t.js", code: code))
        var options = StreamOptions()
        options.batchSize = batchSize
        let runner = EventStreamRunner(runtime: sharedRuntime, transformation: compiled, options: options)
        return try runner.run(input: InputReader(bytes: Array(text.utf8), maximumItemBytes: 1 << 20), output: output)
    }

    @Test func keepsInputOrderAcrossManyBatches() throws {
        var input = ""
        var expected: [String] = []
        for n in 1...500 {
            if n == 250 {
                input += "{oops\n"
                expected.append("error line 250")
            }
            input += "{\"n\":\(n)}\n"
            if n % 5 == 0 {
                expected.append("dropped")
            } else if n % 7 == 0 {
                expected.append("output \(n)")
                expected.append("output \(-n)")
            } else {
                expected.append("output \(n)")
            }
        }
        let output = OutputWriter.inMemory()
        let summary = try stream(input, batchSize: 3, output: output)
        let got = String(decoding: output.collected, as: UTF8.self).split(separator: "\n").map { line -> String in
            if line.hasPrefix("{\"dropped\"") { return "dropped" }
            if line.hasPrefix("{\"error\"") {
                let number = line.split(separator: "line ")[1].prefix { $0.isNumber }
                return "error line \(number)"
            }
            let n = line.split(separator: "\"n\":")[1].prefix { $0 == "-" || $0.isNumber }
            return "output \(n)"
        }
        #expect(got == expected)
        #expect(summary.outcomes.events == 501)  // the invalid line counts as an input
        #expect(summary.outcomes.count(of: .invalidInput) == 1)
        #expect(summary.outcomes.dropped == 100)
        // 400 events kept, 57 of them (multiples of 7, not of 5) split in two.
        #expect(summary.outcomes.outputs == 457)
        #expect(summary.outcomes.summary == "501 events → 457 outputs, 100 dropped, 1 failed (1 invalid_input)")
        #expect(String(decoding: output.collected, as: UTF8.self).contains(#""kind":"invalid_input","metadata":{}}"#))
    }

    @Test func aFailingOutputIsReportedAndStopsTheRun() throws {
        // A descriptor open for reading only: every write fails with EBADF.
        let descriptor = open("/dev/null", O_RDONLY)
        defer { close(descriptor) }
        let input = String(repeating: "{\"n\":1}\n", count: 20_000)
        #expect(throws: (any Error).self) {
            _ = try stream(input, batchSize: 10, output: OutputWriter(fileDescriptor: descriptor, capacity: 64))
        }
    }
}
