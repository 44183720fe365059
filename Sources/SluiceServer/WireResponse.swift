import SluiceCore

/// A response of the data-plane API: status, body and the headers rudder-server relies on.
public struct WireResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var headers: [(name: String, value: String)]
    /// Time spent in the engine for this request (the rest of the handling is the service's
    /// overhead: parsing, grouping, mapping).
    public var engineTime: Duration = .zero
    /// Time spent validating and splitting the request body (part of the overhead).
    public var parseTime: Duration = .zero

    public init(status: Int, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// `{"error": message}` with the given status.
    public static func error(_ status: Int, _ message: String) -> WireResponse {
        var body = Array(#"{"error":"#.utf8)
        JSONString.append(message, to: &body)
        body.append(UInt8(ascii: "}"))
        return WireResponse(status: status, body: body)
    }
}
