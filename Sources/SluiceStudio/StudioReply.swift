import Foundation
import SluiceCore

/// A Studio answer, independent of the HTTP library: status and JSON body (the server adds the
/// headers every Studio response carries, ``StudioAssets/securityHeaders``).
public struct StudioReply: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var contentType = "application/json"

    public init(status: Int, body: [UInt8], contentType: String = "application/json") {
        self.status = status
        self.body = body
        self.contentType = contentType
    }

    /// `object` as JSON (keys sorted, so answers are stable).
    public static func json(_ status: Int, _ object: [String: Any]) -> StudioReply {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed]))
            ?? Data(#"{"error":"the answer could not be written as JSON"}"#.utf8)
        return StudioReply(status: data.isEmpty ? 500 : status, body: Array(data))
    }

    /// `{"error": message}`.
    public static func error(_ status: Int, _ message: String) -> StudioReply {
        var body = Array(#"{"error":"#.utf8)
        JSONString.append(message, to: &body)
        body.append(UInt8(ascii: "}"))
        return StudioReply(status: status, body: body)
    }
}
