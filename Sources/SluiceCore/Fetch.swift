/// An outbound HTTP request made by user code with `fetch` or `fetchV2` (CONTRACT.md §2.3).
public struct FetchRequest: Sendable, Hashable {
    public var url: String
    /// `GET` unless the code says otherwise.
    public var method: String
    public var headers: [String: String]
    public var body: [UInt8]?

    public init(url: String, method: String = "GET", headers: [String: String] = [:], body: [UInt8]? = nil) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
    }
}

/// What a fetch got: the final URL (after redirects), status, headers and body bytes.
public struct FetchResponse: Sendable, Hashable {
    public var url: String
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(url: String, status: Int, headers: [String: String], body: [UInt8]) {
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
    }
}

/// Why a fetch produced no response: the egress guard refused it, or the network, a timeout or
/// a cap ended it. `fetch` turns either into `"ERROR"`; `fetchV2` rejects with the message.
public struct FetchFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// `refused` (policy), `timeout`, `too_large`, `network`, `limit` (calls per invocation).
    public var kind: String
    public var message: String

    public init(kind: String, message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// Performs fetches for user code: given the request and the nanoseconds the call has left,
/// blocks until it has a response or a failure. Engines call it from their own thread.
public typealias FetchHandler = @Sendable (FetchRequest, _ remainingNanoseconds: UInt64) -> Result<FetchResponse, FetchFailure>
