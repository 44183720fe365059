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
    /// The service's explanation (logs; the policy's reason).
    public var message: String
    /// What user code sees, in rudder-transformer's (node-fetch's) words: `blocked request to
    /// non-public address: 10.0.0.1`, `network timeout at: <url>`, `request to <url> failed,
    /// reason: …`. The message when not set.
    public var userMessage: String

    public init(kind: String, message: String, userMessage: String? = nil) {
        self.kind = kind
        self.message = message
        self.userMessage = userMessage ?? message
    }

    public var description: String { message }
}

/// Performs fetches for user code: given the request and the nanoseconds the call has left,
/// blocks until it has a response or a failure. Engines call it from their own thread.
public typealias FetchHandler = @Sendable (FetchRequest, _ remainingNanoseconds: UInt64) -> Result<FetchResponse, FetchFailure>

/// What the engines' drivers call for `fetch` during one batch: counts the calls of each
/// invocation against the cap, hands requests to the batch's ``FetchHandler``, and answers the
/// driver in JSON — `{"url","status","headers","body"}` (body as text) or `{"error","kind"}`.
/// Confined to the engine thread running the batch.
public final class FetchBridge: @unchecked Sendable {
    // @unchecked: used only on the engine thread of its batch.
    private let handler: FetchHandler?
    private let limit: Int
    private var calls: [Int: Int] = [:]

    public init(handler: FetchHandler?, callsPerInvocation: Int) {
        self.handler = handler
        self.limit = callsPerInvocation
    }

    /// Performs one request. `invocation` identifies the user-function call making it (the
    /// input's index, or -1 for `transformBatch`); `headers` is `name␟value␞…`.
    public func perform(invocation: Int, url: String, method: String, headers: String, body: [UInt8]?,
                        remainingNanoseconds: UInt64) -> String {
        guard let handler else {
            return Self.failure(kind: "unavailable", "fetch is not available in this run (sluice run and sluice test have no network; give the test case fetch mocks)")
        }
        let count = (calls[invocation] ?? 0) + 1
        calls[invocation] = count
        guard count <= limit else {
            return Self.failure(kind: "limit", "fetch refused: more than \(limit) fetch calls in one invocation")
        }
        var headerMap: [String: String] = [:]
        for pair in headers.split(separator: "\u{1E}") {
            let parts = pair.split(separator: "\u{1F}", maxSplits: 1, omittingEmptySubsequences: false)
            if parts.count == 2 { headerMap[String(parts[0])] = String(parts[1]) }
        }
        switch handler(FetchRequest(url: url, method: method.isEmpty ? "GET" : method, headers: headerMap, body: body), remainingNanoseconds) {
        case .success(let response):
            var text = #"{"url":"# + JSONString.encode(response.url) + #","status":\#(response.status),"headers":{"#
            text += response.headers.sorted { $0.key < $1.key }.map { JSONString.encode($0.key) + ":" + JSONString.encode($0.value) }
                .joined(separator: ",")
            text += #"},"body":"# + JSONString.encode(String(decoding: response.body, as: UTF8.self)) + "}"
            return text
        case .failure(let failure):
            return Self.failure(kind: failure.kind, failure.userMessage)
        }
    }

    static func failure(kind: String, _ message: String) -> String {
        #"{"error":"# + JSONString.encode(message) + #","kind":"# + JSONString.encode(kind) + "}"
    }
}
