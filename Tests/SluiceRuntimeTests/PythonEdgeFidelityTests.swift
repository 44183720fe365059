import SluiceCore
import SluiceRuntime
import Testing

/// Values at the edges of what JSON and CPython allow pass through the identity transformation
/// unchanged, or fail for their own event alone with a clear error.
@Suite struct PythonEdgeFidelity {
    static let identity = "def transformEvent(event, metadata):\n    return event\n"

    @Test(arguments: [4_301, 10_000, 250_000])
    func integersPastCPythonsDigitLimitPassThroughUnchanged(_ digits: Int) throws {
        let large = "8" + String(repeating: "7", count: digits - 1)
        let input = #"{"n":\#(large),"negative":-\#(large),"nested":[{"n":\#(large)}],"small":1}"#
        #expect(try pythonLines(Self.identity, [input, #"{"b":2}"#]) == ["0 output \(input)", #"1 output {"b":2}"#])
    }

    @Test func largeIntegersWorkInArithmeticAndAsKeysAndInLogs() throws {
        let large = String(repeating: "9", count: 5_000)
        let code = """
        def transformEvent(event, metadata):
            log(event["n"] + 1)
            return {"next": event["n"] + 1, "keys": {event["n"]: True}, "digits": len(str(event["n"] // 10 ** 4000))}
        """
        let result = try runPython(code, [#"{"n":\#(large)}"#])
        let next = "1" + String(repeating: "0", count: 5_000)
        #expect(result.results.map { render($0) } == [#"0 output {"next":\#(next),"keys":{"\#(large)":true},"digits":1000}"#])
        #expect(result.logs.map(\.text) == [next])
    }

    @Test func userCodeKeepsCPythonsOwnDigitLimit() throws {
        let large = String(repeating: "9", count: 5_000)
        #expect(try pythonLines("def transformEvent(event, metadata):\n    return {\"s\": str(event[\"n\"])}\n", [#"{"n":\#(large)}"#])
            == ["0 exception: ValueError: Exceeds the limit (4300 digits) for integer string conversion; use sys.set_int_max_str_digits() to increase the limit"])
    }

    @Test func nestingOfTenThousandLevelsPassesInBothDirections() throws {
        let objects = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        let arrays = #"{"a":"# + String(repeating: "[", count: 9_999) + "1" + String(repeating: "]", count: 9_999) + "}"
        let mixed = String(repeating: #"{"a":["#, count: 5_000) + "null" + String(repeating: "]}", count: 5_000)
        #expect(try pythonLines(Self.identity, [objects, arrays, mixed]) == ["0 output \(objects)", "1 output \(arrays)", "2 output \(mixed)"])
    }

    @Test func theLimitIsTheEventsOwnDepthInsideAnEnvelope() throws {
        func envelope(_ levels: Int) -> String {
            #"{"message":"# + String(repeating: #"{"a":"#, count: levels) + "1" + String(repeating: "}", count: levels)
                + #","metadata":{"messageId":"m"}}"#
        }
        let event = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)
        #expect(try pythonLines(Self.identity, [envelope(10_000), envelope(10_001)])
            == ["0 output \(event)", "1 invalid_input: invalid JSON: nesting deeper than 10000 levels"])
    }

    @Test func deeperNestingFailsForItsEventAlone() throws {
        let tooDeep = String(repeating: #"{"a":"#, count: 10_001) + "1" + String(repeating: "}", count: 10_001)
        #expect(try pythonLines(Self.identity, [#"{"a":1}"#, tooDeep, #"{"b":2}"#]) == [
            #"0 output {"a":1}"#, "1 invalid_input: invalid JSON: nesting deeper than 10000 levels", #"2 output {"b":2}"#,
        ])
        // An output built deeper than that by user code.
        let code = "def transformEvent(event, metadata):\n    value = []\n    for _ in range(event[\"depth\"]):\n        value = [value]\n    return {\"v\": value}\n"
        let lines = try pythonLines(code, [#"{"depth":9998}"#, #"{"depth":20000}"#])
        #expect(lines.first == #"0 output {"v":"# + String(repeating: "[", count: 9_999) + String(repeating: "]", count: 9_999) + "}")
        #expect(lines.last == "1 unserializable_result: RecursionError: maximum recursion depth exceeded while encoding a JSON object")
    }

    @Test func recursionInUserCodeOverADeepEventIsStillARecursionError() throws {
        let deep = String(repeating: #"{"a":"#, count: 5_000) + "1" + String(repeating: "}", count: 5_000)
        let code = "def depth(value):\n    return 1 + depth(value[\"a\"]) if isinstance(value, dict) else 0\n\ndef transformEvent(event, metadata):\n    return {\"d\": depth(event)}\n"
        let lines = try pythonLines(code, [deep, #"{"a":{"a":1}}"#])
        #expect(lines.count == 2 && lines[0].hasPrefix("0 exception: RecursionError: maximum recursion depth exceeded"), "\(lines)")
        #expect(lines.last == #"1 output {"d":2}"#)
    }

    @Test func deepMetadataIsCopiedForUserCode() throws {
        let deep = String(repeating: #"{"a":"#, count: 3_000) + "1" + String(repeating: "}", count: 3_000)
        let code = "def transformEvent(event, metadata):\n    return {\"same\": metadata(event)[\"deep\"] is not None}\n"
        #expect(try pythonLines(code, [#"{"message":{"messageId":"m"},"metadata":{"messageId":"m","deep":\#(deep)}}"#]) == [#"0 output {"same":true}"#])
    }
}
