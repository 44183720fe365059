#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Studio's guard on requests: Studio edits and runs code, so a page on another origin must not
/// be able to make the browser do it (CSRF), and a hostile name that resolves to the loopback
/// address must not reach it (DNS rebinding).
///
/// - Every Studio request must name a host Studio is served as: with a loopback listener only a
///   loopback address or `localhost` (a rebinding domain carries its own name in `Host`).
/// - A state-changing request (POST, DELETE) must come from the page itself: `Sec-Fetch-Site`, when the
///   browser sends it, is `same-origin`; `Origin`, when sent, is this very origin; and the
///   `X-Sluice-Studio-Token` header holds this process's token, which the page reads with a GET
///   (another origin cannot read it: Studio sends no CORS headers).
public struct StudioGuard: Sendable {
    /// The header a state-changing request carries the token in.
    public static let tokenHeader = "X-Sluice-Studio-Token"
    /// This process's token: 32 random bytes as hex, new at every start.
    public let token: String
    /// Whether the service listens on loopback only (then only loopback `Host` names are served).
    public let loopbackOnly: Bool

    public init(loopbackOnly: Bool, token: String = StudioGuard.newToken()) {
        self.loopbackOnly = loopbackOnly
        self.token = token
    }

    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<32).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }

    /// Why a request with this `Host` header may not reach Studio, or nil.
    public func hostRefusal(host: String?) -> String? {
        guard loopbackOnly else { return nil }
        guard let host, let name = Self.hostName(host) else { return "Studio needs a Host header" }
        if name == "localhost" || name.hasSuffix(".localhost") || Self.isLoopback(host: name) { return nil }
        return "Studio on a loopback listener answers only loopback names (127.0.0.1, [::1], localhost), not \(name)"
    }

    /// Why a state-changing request may not run, or nil: its `Sec-Fetch-Site` and `Origin` must
    /// say it comes from this origin (`host`, the request's `Host` header) and `token` must be
    /// this process's token.
    public func refusal(origin: String?, fetchSite: String?, host: String?, token: String?) -> String? {
        if let problem = hostRefusal(host: host) { return problem }
        if let fetchSite, fetchSite != "same-origin" {
            return "cross-origin request refused (Sec-Fetch-Site: \(fetchSite)): Studio's changes come only from its own page"
        }
        if let problem = Self.crossOriginRefusal(origin: origin, fetchSite: nil, host: host) { return problem }
        guard let token, Self.constantTimeEqual(token, self.token) else {
            return "missing or wrong \(Self.tokenHeader) header: reload Studio (the token is new at every start of the service)"
        }
        return nil
    }

    /// Why a browser may not make this state-changing request on another page's behalf, or nil:
    /// `Sec-Fetch-Site`, when sent, is `same-origin` or `none` (typed by the user), and `Origin`,
    /// when sent, is this service's own (`host`, the `Host` header). Clients that are not
    /// browsers (rudder-server, curl) send neither and always pass.
    public static func crossOriginRefusal(origin: String?, fetchSite: String?, host: String?) -> String? {
        if let fetchSite, fetchSite != "same-origin" && fetchSite != "none" {
            return "cross-origin request refused (Sec-Fetch-Site: \(fetchSite)): a page on another site may not make this service run or change code"
        }
        if let origin {
            guard let host, let originHost = authority(ofOrigin: origin), originHost.lowercased() == host.lowercased() else {
                return "cross-origin request refused (Origin \(origin) is not this service's origin)"
            }
        }
        return nil
    }

    /// `127.0.0.1:9090` of `http://127.0.0.1:9090`; nil for `null` or anything not http(s).
    static func authority(ofOrigin origin: String) -> String? {
        for scheme in ["http://", "https://"] where origin.hasPrefix(scheme) {
            let rest = origin.dropFirst(scheme.count)
            return rest.isEmpty || rest.contains("/") ? nil : String(rest)
        }
        return nil
    }

    /// The name of a `Host` header without its port: `127.0.0.1`, `::1` (from `[::1]:80`), `localhost`.
    static func hostName(_ host: String) -> String? {
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return nil }
            return String(host[host.index(after: host.startIndex)..<close])
        }
        return String(host.split(separator: ":", maxSplits: 1).first ?? "").lowercased()
    }

    /// Whether `host` (an address, or `localhost`) is a loopback address: 127.0.0.0/8 or ::1.
    public static func isLoopback(host: String) -> Bool {
        let name = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if name.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { bytes in bytes.prefix(15).allSatisfy { $0 == 0 } && bytes[15] == 1 }
        }
        return false
    }

    static func constantTimeEqual(_ left: String, _ right: String) -> Bool {
        let a = Array(left.utf8), b = Array(right.utf8)
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for index in a.indices { difference |= a[index] ^ b[index] }
        return difference == 0
    }

    /// Whether Studio is served: `--studio` / `--no-studio` (`explicit`), else `SLUICE_STUDIO`
    /// (`1`/`on`/`true` or `0`/`off`/`false`), else only when the service listens on loopback.
    /// Nil and a message for a value that is neither.
    public static func enabled(explicit: Bool?, environment: String?, host: String) -> Result<Bool, StudioProblem> {
        if let explicit { return .success(explicit) }
        if let environment, !environment.isEmpty {
            switch environment.lowercased() {
            case "1", "on", "true", "yes": return .success(true)
            case "0", "off", "false", "no": return .success(false)
            default: return .failure(StudioProblem(400, "SLUICE_STUDIO must be 1 or 0 (on or off), not \(environment)"))
            }
        }
        return .success(isLoopback(host: host))
    }
}
