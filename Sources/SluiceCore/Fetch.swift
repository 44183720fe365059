/// An outbound HTTP request made by user code with `fetch` or `fetchV2` (CONTRACT.md §2.3), or
/// a `geolocation(ip)` lookup.
public struct FetchRequest: Sendable, Hashable {
    /// What the request is for.
    public enum Purpose: String, Sendable, Hashable {
        /// `fetch` / `fetchV2`: ``FetchRequest/url`` is the URL user code gave.
        case fetch
        /// `geolocation(ip)`: ``FetchRequest/url`` is the (validated) address; the service sends
        /// `GET <geolocation URL>/geoip/<address>` (see ``Geolocation``).
        case geolocation
    }

    public var url: String
    /// `GET` unless the code says otherwise.
    public var method: String
    public var headers: [String: String]
    public var body: [UInt8]?
    public var purpose: Purpose

    public init(url: String, method: String = "GET", headers: [String: String] = [:], body: [UInt8]? = nil, purpose: Purpose = .fetch) {
        self.url = url
        self.method = method
        self.headers = headers
        self.body = body
        self.purpose = purpose
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

    /// Why a fetch fails where nothing performs requests: `sluice run` without `--fetch-mocks`
    /// or `--allow-net` (`sluice test` answers from each case's mocks; the service always
    /// performs fetches).
    public static let unavailableOffline = FetchFailure(
        kind: "unavailable",
        message: "fetch is not available in this run: give sluice run --fetch-mocks FILE (answers from mocked responses, as a test case's \"fetch\") or --allow-net (real requests through the egress guard)")
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
    ///
    /// Two methods are the drivers' `geolocation(ip)` (``Geolocation``), with the address as
    /// `url`: `GEOLOCATION` validates the address and looks it up (answering like a fetch, or
    /// `{"error","kind"}` with rudder's texts); `GEOLOCATION-CHECK` only validates it (`{}` or an
    /// error), for runs that answer from mocks.
    public func perform(invocation: Int, url: String, method: String, headers: String, body: [UInt8]?,
                        remainingNanoseconds: UInt64) -> String {
        if method == "GEOLOCATION" || method == "GEOLOCATION-CHECK" {
            return geolocate(invocation: invocation, address: url, checkOnly: method == "GEOLOCATION-CHECK",
                             remainingNanoseconds: remainingNanoseconds)
        }
        guard let handler else {
            return Self.failure(kind: FetchFailure.unavailableOffline.kind, FetchFailure.unavailableOffline.userMessage)
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

    private func geolocate(invocation: Int, address: String, checkOnly: Bool, remainingNanoseconds: UInt64) -> String {
        if let invalid = Geolocation.validationError(address) { return Self.failure(kind: "invalid", invalid) }
        if checkOnly { return "{}" }
        guard let handler else { return Self.failure(kind: "unavailable", Geolocation.unavailableMessage) }
        let count = (calls[invocation] ?? 0) + 1
        calls[invocation] = count
        guard count <= limit else {
            return Self.failure(kind: "limit", "geolocation refused: more than \(limit) fetch and geolocation calls in one invocation")
        }
        switch handler(FetchRequest(url: address, purpose: .geolocation), remainingNanoseconds) {
        case .success(let response):
            guard response.status == 200 else {
                return Self.failure(kind: "status", "request to fetch geolocation failed with status code: \(response.status)")
            }
            return #"{"url":"# + JSONString.encode(response.url) + #","status":200,"headers":{},"body":"#
                + JSONString.encode(String(decoding: response.body, as: UTF8.self)) + "}"
        case .failure(let failure):
            return Self.failure(kind: failure.kind, failure.message)
        }
    }

    static func failure(kind: String, _ message: String) -> String {
        #"{"error":"# + JSONString.encode(message) + #","kind":"# + JSONString.encode(kind) + "}"
    }
}

/// `geolocation(ip)` as rudder-transformer has it (`sandboxBridge.js`, `utils.validateIp`): the
/// address is checked first (`ip address is required` for a missing or empty one — the drivers
/// decide emptiness by their language's truthiness — `invalid ip address` when it is not an
/// address), then the service needs a configured geolocation URL (`geolocation is not available
/// right now`), then `GET <URL>/geoip/<address as given>` must answer 200 with JSON.
public enum Geolocation {
    public static let requiredMessage = "ip address is required"
    public static let invalidMessage = "invalid ip address"
    public static let unavailableMessage = "geolocation is not available right now"

    /// The error for `text` as an address, or nil when it is one.
    public static func validationError(_ text: String) -> String? {
        if text.isEmpty { return requiredMessage }
        return isAddress(text) ? nil : invalidMessage
    }

    /// What ipaddr.js's `isValid` accepts, less zone ids (they cannot go into a URL path): IPv4
    /// in dotted-quad and in the shorthand and numeric forms (`127.1`, `2130706433`,
    /// `0x7f000001`, `0177.0.0.1`), and IPv6 in its text forms, `::ffff:1.2.3.4` included.
    public static func isAddress(_ text: String) -> Bool {
        text.contains(":") ? isIPv6(text) : isIPv4(text)
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return false }
        var values: [UInt64] = []
        for part in parts {
            let lower = part.lowercased()
            // Swift's integer parsing takes a sign; ipaddr.js does not.
            guard lower.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == "x") }) else { return false }
            let value: UInt64?
            if lower.hasPrefix("0x") {
                value = lower.count == 2 || lower.count > 10 ? nil : UInt64(lower.dropFirst(2), radix: 16)
            } else if lower.hasPrefix("0") && lower.count > 1 {
                value = lower.count > 12 ? nil : UInt64(lower.dropFirst(), radix: 8)
            } else {
                value = lower.isEmpty || lower.count > 10 ? nil : UInt64(lower, radix: 10)
            }
            guard let value else { return false }
            values.append(value)
        }
        for (index, value) in values.enumerated() {
            let bytes = index < values.count - 1 ? 1 : 4 - index
            if value >= UInt64(1) << UInt64(8 * bytes) { return false }
        }
        return true
    }

    static func isIPv6(_ text: String) -> Bool {
        var groups = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard groups.count >= 3, groups.count <= 9 else { return false }
        var required = 8
        if let last = groups.last, last.contains(".") {
            // An embedded IPv4 address in dotted-quad form takes the last two groups.
            let octets = last.split(separator: ".", omittingEmptySubsequences: false)
            guard octets.count == 4, octets.allSatisfy({ !$0.isEmpty && $0.count <= 3 && $0.allSatisfy(\.isASCII) && (UInt16($0).map { $0 <= 255 } ?? false) }) else {
                return false
            }
            groups[groups.count - 1] = "0"
            required = 7
        }
        let bytes = Array(groups.joined(separator: ":").utf8)
        let doubleColons = bytes.indices.dropLast().filter { bytes[$0] == UInt8(ascii: ":") && bytes[$0 + 1] == UInt8(ascii: ":") }
        func hexGroups(_ part: ArraySlice<UInt8>) -> Int? {
            if part.isEmpty { return 0 }
            var count = 0
            for group in part.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy({ Character(Unicode.Scalar($0)).isHexDigit }) else { return nil }
                count += 1
            }
            return count
        }
        switch doubleColons.count {
        case 0: return hexGroups(bytes[...]) == required
        case 1:
            let at = doubleColons[0]
            guard let head = hexGroups(bytes[..<at]), let tail = hexGroups(bytes[(at + 2)...]) else { return false }
            return head + tail < required
        default: return false
        }
    }
}
