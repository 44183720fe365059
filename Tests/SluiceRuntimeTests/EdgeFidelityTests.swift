import SluiceCore
import SluiceRuntime
import Testing

/// Events at the edges of JSON pass through the identity transformation unchanged, or fail alone
/// with a clear error.
@Suite struct EdgeFidelity {
    static let identity = "export function transformEvent(e) { return e; }"

    static func nested(_ depth: Int, object: Bool) -> String {
        object
            ? String(repeating: #"{"a":"#, count: depth) + "1" + String(repeating: "}", count: depth)
            : String(repeating: "[", count: depth) + "1" + String(repeating: "]", count: depth)
    }

    /// Go's encoding/json (rudder-server) refuses more than 10,000 levels, so nothing deeper
    /// reaches the service from it; the engine handles twice that.
    @Test(arguments: [10_000, 20_000])
    func deepNestingPassesThroughUnchanged(_ depth: Int) throws {
        let objects = Self.nested(depth, object: true)
        let arrays = #"{"list":"# + Self.nested(depth - 1, object: false) + "}"
        let mixed = String(repeating: #"{"a":["#, count: depth / 2) + "true" + String(repeating: "]}", count: depth / 2)
        let envelope = #"{"message":"# + objects + #","metadata":{"messageId":"deep"}}"#
        let result = try runJavaScript(Self.identity, [objects, arrays, mixed, envelope])
        #expect(result.results.map { render($0) } == [
            "0 output \(objects)", "1 output \(arrays)", "2 output \(mixed)", "3 output \(objects)",
        ])
        #expect(String(decoding: result.results[3].metadata, as: UTF8.self) == #"{"messageId":"deep"}"#)
    }

    @Test(arguments: [60_000, 200_000])
    func nestingTooDeepToSerialiseFailsThatEventOnlyAndKeepsItsMetadata(_ depth: Int) throws {
        let envelope = #"{"message":"# + Self.nested(depth, object: depth % 2 == 0) + #","metadata":{"messageId":"deep","sourceId":"s"}}"#
        let result = try runJavaScript(Self.identity, [envelope, #"{"n":2}"#])
        #expect(result.results.map { render($0, fullMessages: true) } == [
            "0 unserializable_result: RangeError: Maximum call stack size exceeded. (the returned event is nested too deeply to serialise: JSON.stringify stops at about 40,000 levels)",
            #"1 output {"n":2}"#,
        ])
        #expect(String(decoding: result.results[0].metadata, as: UTF8.self) == #"{"messageId":"deep","sourceId":"s"}"#)
    }

    @Test(arguments: [
        #"{"id":12345678901234567890}"#,
        #"{"id":-98765432109876543210,"ok":9007199254740991,"next":9007199254740993}"#,
        #"{"list":[18446744073709551615,1,{"deep":[123456789012345678901234567890]}],"s":"12345678901234567890"}"#,
        #"{"huge":1"# + String(repeating: "0", count: 399) + #","negative":-7"# + String(repeating: "3", count: 399) + "}",
        #"{"same":[12345678901234567890,12345678901234567890],"exact":1000000000000000000,"small":12}"#,
    ])
    func integersBeyondTwoToThe53KeepTheirDigits(_ input: String) throws {
        #expect(try lines(Self.identity, [input, #"{"n":2}"#]) == ["0 output \(input)", #"1 output {"n":2}"#])
    }

    @Test func integersKeepTheirDigitsInTransformBatchAndInEnvelopes() throws {
        let code = "export function transformBatch(events) { return events.map((e) => ({ ...e, kind: typeof e.id })); }"
        let inputs = [
            #"{"message":{"messageId":"a","id":12345678901234567890},"metadata":{"messageId":"a","jobId":98765432109876543210}}"#,
            #"{"messageId":"b","id":-12345678901234567891}"#,
        ]
        let result = try runJavaScript(code, inputs)
        #expect(result.results.map { render($0) } == [
            #"0 output {"messageId":"a","id":12345678901234567890,"kind":"number"}"#,
            #"1 output {"messageId":"b","id":-12345678901234567891,"kind":"number"}"#,
        ])
        #expect(String(decoding: result.results[0].metadata, as: UTF8.self) == #"{"messageId":"a","jobId":98765432109876543210}"#)
    }

    /// What JavaScript numbers cannot do: two different integers of one input that are the same
    /// double cannot be told apart, and arithmetic on a big integer gives a double.
    @Test func whatCannotBeKeptExactIsDocumented() throws {
        #expect(try lines(Self.identity, [
            #"{"a":12345678901234567890,"b":12345678901234567891}"#, #"{"a":12345678901234567890,"b":12345678901234567000}"#,
        ]) == [
            "0 unserializable_result: the input's integers 12345678901234567890 and 12345678901234567891 are the same JavaScript number (12345678901234567000), so the output cannot say which one it holds",
            "1 unserializable_result: the input's integers 12345678901234567890 and 12345678901234567000 are the same JavaScript number (12345678901234567000), so the output cannot say which one it holds",
        ])
        let arithmetic = "export function transformEvent(e) { return { next: e.id + 1, same: e.id }; }"
        #expect(try lines(arithmetic, [#"{"id":12345678901234567890}"#]) == [#"0 output {"next":12345678901234567890,"same":12345678901234567890}"#])
        let fraction = #"{"f":0.1000000000000000055511151231257827}"#
        #expect(try lines(Self.identity, [fraction]) == [#"0 output {"f":0.1}"#])
    }
}
