import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

/// What one batch logs is capped (16 MB of log text, in both languages): past it, one line says
/// so and the rest is dropped, so logging — log(), console.log, Python's print() — can never
/// outgrow the worker's channel, whatever the memory limit.
@Suite struct LogLimitTests {
    static let marker = "log output past 16 MB in this batch was dropped"

    @Test(arguments: [Language.javascript, .python])
    func theLogsOfABatchStopAtSixteenMegabytesWithOneLineSayingSo(language: Language) throws {
        let javascript = """
        export function transformEvent(event) {
          for (let i = 0; i < 10; i++) { log("x".repeat(1000000)); console.log("y".repeat(1000000)); }
          return event;
        }
        """
        let python = """
        def transformEvent(event, metadata):
            for _ in range(10):
                log("x" * 1_000_000)
                print("y" * 1_000_000)
            return event
        """
        let result = try runTransformation(language == .javascript ? javascript : python, [#"{"messageId":"a"}"#, #"{"messageId":"b"}"#],
                                           language: language, limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 512))
        #expect(result.results.map { render($0) } == [#"0 output {"messageId":"a"}"#, #"1 output {"messageId":"b"}"#])
        // Each line is 1,000,002 characters as JSON: 16 fit in 16 MiB, the 17th is the marker.
        #expect(result.logs.count == 17)
        #expect(result.logs.prefix(16).allSatisfy { $0.text.utf8.count == 1_000_000 })
        #expect(result.logs.last?.text == Self.marker)
        #expect(result.logs.last?.messageId == "a")
        #expect(!result.logs.contains { $0.messageId == "b" })
    }

    @Test(arguments: [Language.javascript, .python])
    func theCapIsPerBatch(language: Language) throws {
        let code = language == .javascript
            ? "export function transformEvent(event) { log('fine'); return event; }"
            : "def transformEvent(event, metadata):\n    print('fine')\n    return event\n"
        for _ in 0..<2 {
            let result = try runTransformation(code, ["{}"], language: language)
            #expect(result.logs.map(\.text) == ["fine"])
        }
    }
}
