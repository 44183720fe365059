import SluiceCore
import SluiceRuntime
import SluiceTestSupport
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
}
