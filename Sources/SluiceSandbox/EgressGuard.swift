#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// An IPv4 or IPv6 address as its bytes (4 or 16), network order.
public struct IPAddress: Hashable, Sendable, CustomStringConvertible {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == 4 || bytes.count == 16 else { return nil }
        self.bytes = bytes
    }

    public var isIPv4: Bool { bytes.count == 4 }

    /// The IPv4 address an IPv6 address carries, for the forms that reach an IPv4 host:
    /// IPv4-mapped (`::ffff:a.b.c.d`), IPv4-compatible (`::a.b.c.d`, deprecated but routable by
    /// some stacks), NAT64 (`64:ff9b::/96`) and 6to4 (`2002:aabb:ccdd::/16`).
    public var embeddedIPv4: IPAddress? {
        guard bytes.count == 16 else { return nil }
        let prefix = Array(bytes[0..<12])
        if prefix == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF] || prefix == [UInt8](repeating: 0, count: 12) && bytes[12..<16] != [0, 0, 0, 0] && bytes[12..<16] != [0, 0, 0, 1] {
            return IPAddress(bytes: Array(bytes[12..<16]))
        }
        if prefix == [0, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return IPAddress(bytes: Array(bytes[12..<16])) }
        if bytes[0] == 0x20 && bytes[1] == 0x02 { return IPAddress(bytes: Array(bytes[2..<6])) }
        return nil
    }

    /// Strict text forms: dotted-quad IPv4 (`10.0.0.1`) or IPv6 (`fe80::1`, `::ffff:127.0.0.1`),
    /// optionally in brackets.
    public init?(_ text: String) {
        var text = text
        if text.hasPrefix("[") && text.hasSuffix("]") { text = String(text.dropFirst().dropLast()) }
        if let zone = text.firstIndex(of: "%") { text = String(text[..<zone]) }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            self.bytes = withUnsafeBytes(of: v4) { Array($0) }
            return
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, text, &v6) == 1 {
            self.bytes = withUnsafeBytes(of: v6) { Array($0) }
            return
        }
        return nil
    }

    /// Every way a URL host can spell an IPv4 literal that resolvers and HTTP clients accept
    /// (inet_aton's forms): `2130706433`, `0x7f000001`, `0177.0.0.1`, `127.1`, `0x7f.0.0.1`.
    /// Such hosts are addresses, not names: they are checked, never sent to DNS.
    public static func lenientIPv4(_ host: String) -> IPAddress? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard !part.isEmpty else { return nil }
            let lower = part.lowercased()
            let value: UInt64?
            if lower.hasPrefix("0x") {
                value = lower.count == 2 ? 0 : UInt64(lower.dropFirst(2), radix: 16)
            } else if lower.hasPrefix("0") && lower.count > 1 {
                value = UInt64(lower.dropFirst(), radix: 8)
            } else {
                value = UInt64(lower, radix: 10)
            }
            guard let value else { return nil }
            values.append(value)
        }
        // The last part fills the remaining bytes.
        var result: UInt64 = 0
        for (index, value) in values.enumerated() {
            if index < values.count - 1 {
                guard value <= 0xFF else { return nil }
                result |= value << UInt64(8 * (3 - index))
            } else {
                let remainingBytes = 4 - index
                guard value < (UInt64(1) << UInt64(8 * remainingBytes)) else { return nil }
                result |= value
            }
        }
        return IPAddress(bytes: [UInt8(result >> 24 & 0xFF), UInt8(result >> 16 & 0xFF), UInt8(result >> 8 & 0xFF), UInt8(result & 0xFF)])
    }

    public var description: String {
        var buffer = [CChar](repeating: 0, count: 64)
        let family = isIPv4 ? AF_INET : AF_INET6
        let ok = bytes.withUnsafeBytes { inet_ntop(family, $0.baseAddress, &buffer, socklen_t(buffer.count)) != nil }
        return ok ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
}

/// An address range: `10.0.0.0/8`, `fc00::/7`, or one address (`127.0.0.1` = `/32`).
public struct CIDR: Hashable, Sendable, CustomStringConvertible {
    public let network: IPAddress
    public let prefixLength: Int

    public init?(_ text: String) {
        let pieces = text.trimmingCharacters(in: .whitespaces).split(separator: "/", maxSplits: 1)
        guard let first = pieces.first, let address = IPAddress(String(first)) else { return nil }
        let maximum = address.bytes.count * 8
        let length = pieces.count == 2 ? Int(pieces[1]) : maximum
        guard let length, (0...maximum).contains(length) else { return nil }
        network = address
        prefixLength = length
    }

    public func contains(_ address: IPAddress) -> Bool {
        guard address.bytes.count == network.bytes.count else { return false }
        var remaining = prefixLength
        for (a, b) in zip(address.bytes, network.bytes) {
            if remaining <= 0 { return true }
            let bits = min(8, remaining)
            let mask: UInt8 = bits == 8 ? 0xFF : ~(0xFF >> UInt8(bits))
            if a & mask != b & mask { return false }
            remaining -= bits
        }
        return true
    }

    public var description: String { "\(network)/\(prefixLength)" }
}

/// Where user code's `fetch` may connect (CONTRACT.md §2.3; issue 6): only http and https, and
/// never to loopback, private, carrier-grade NAT, link-local (cloud metadata at 169.254.169.254
/// included), unspecified, multicast, broadcast, reserved, documentation or benchmarking ranges,
/// nor to IPv6 unique-local or link-local addresses — checked on every address a name resolves to
/// and on every redirect hop, with IPv4 carried inside IPv6 (mapped, compatible, NAT64, 6to4)
/// checked as the IPv4 address it is. Operators adjust it with CIDR lists:
/// `SLUICE_FETCH_DENY` always wins; `SLUICE_FETCH_ALLOW` lifts the built-in denial for the ranges
/// it names only (so a test may allow its loopback mock server and nothing else).
public struct EgressPolicy: Sendable {
    public enum Decision: Equatable, Sendable {
        case allowed
        case refused(String)
    }

    /// The ranges refused unless allowed, with the reason each gives.
    public static let builtInDenied: [(range: CIDR, reason: String)] = [
        ("0.0.0.0/8", "an unspecified (this-network) address"),
        ("10.0.0.0/8", "a private address"),
        ("100.64.0.0/10", "a carrier-grade NAT address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata lives here)"),
        ("172.16.0.0/12", "a private address"),
        ("192.0.0.0/24", "an IETF protocol-assignment address"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private address"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
        ("255.255.255.255/32", "the broadcast address"),
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("fc00::/7", "a unique-local address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
        ("100::/64", "a discard-only address"),
        ("2001:db8::/32", "a documentation address"),
    ].map { (CIDR($0.0)!, $0.1) }

    public var allow: [CIDR]
    public var deny: [CIDR]
    /// Origins (scheme, host, port) whose addresses the built-in denials do not apply to: the
    /// operator's own services that the service itself calls for user code, such as the
    /// geolocation URL, which may well be on a private or loopback address. Only requests to
    /// exactly that origin benefit (a redirect elsewhere is checked as usual), and the
    /// operator's `deny` list still wins.
    public var allowedOrigins: [Origin]

    public init(allow: [CIDR] = [], deny: [CIDR] = [], allowedOrigins: [Origin] = []) {
        self.allow = allow
        self.deny = deny
        self.allowedOrigins = allowedOrigins
    }

    /// A URL's scheme, host (lowercased, as ``target(of:)`` gives it) and port.
    public struct Origin: Hashable, Sendable {
        public let scheme: String
        public let host: String
        public let port: Int

        /// The origin of an absolute http(s) URL, or nil when the URL has none.
        public init?(url: String) {
            guard case .success(let target) = EgressPolicy().target(of: url) else { return nil }
            self.init(target)
        }

        public init(_ target: Target) {
            scheme = target.scheme
            host = target.host
            port = target.port
        }
    }

    /// From `SLUICE_FETCH_ALLOW` and `SLUICE_FETCH_DENY` (comma-separated CIDRs); a malformed
    /// entry is an error naming it, never silently ignored.
    public static func fromEnvironment(_ environment: [String: String]) throws(EgressPolicyError) -> EgressPolicy {
        func list(_ key: String) throws(EgressPolicyError) -> [CIDR] {
            guard let text = environment[key], !text.isEmpty else { return [] }
            var ranges: [CIDR] = []
            for entry in text.split(separator: ",") {
                guard let range = CIDR(String(entry)) else { throw EgressPolicyError("\(key): \(entry) is not an address or CIDR range") }
                ranges.append(range)
            }
            return ranges
        }
        return EgressPolicy(allow: try list("SLUICE_FETCH_ALLOW"), deny: try list("SLUICE_FETCH_DENY"))
    }

    /// Whether a connection to `address` for `target` (the URL's host and port) is allowed.
    public func decision(for address: IPAddress, target: Target) -> Decision {
        if !allowedOrigins.isEmpty, allowedOrigins.contains(Origin(target)), !deny.contains(where: { $0.contains(address) }) {
            return .allowed
        }
        return decision(for: address)
    }

    /// Whether a connection to `address` is allowed.
    public func decision(for address: IPAddress) -> Decision {
        if let range = deny.first(where: { $0.contains(address) }) {
            return .refused("\(address) is in the operator's denied range \(range)")
        }
        if allow.contains(where: { $0.contains(address) }) { return .allowed }
        if let embedded = address.embeddedIPv4 {
            switch decision(for: embedded) {
            case .allowed: return .allowed
            case .refused(let reason): return .refused("\(address) carries \(embedded): " + reason)
            }
        }
        if let denied = Self.builtInDenied.first(where: { $0.range.contains(address) }) {
            return .refused("\(address) is \(denied.reason)")
        }
        return .allowed
    }

    /// What a URL's host is: an address to check now, or a name to resolve (and check each
    /// answer). Refuses schemes other than http and https, and user-info in URLs.
    public func target(of url: String) -> Result<Target, EgressPolicyError> {
        guard let schemeEnd = url.range(of: "://") else { return .failure(EgressPolicyError("\(url): not an absolute http(s) URL")) }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "http" || scheme == "https" else {
            return .failure(EgressPolicyError("\(scheme): only http and https are allowed"))
        }
        let rest = url[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !authority.contains("@") else { return .failure(EgressPolicyError("credentials in URLs are not allowed")) }
        var host = String(authority)
        var port = scheme == "https" ? 443 : 80
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return .failure(EgressPolicyError("\(host): unterminated IPv6 literal")) }
            let after = host[host.index(after: close)...]
            if after.hasPrefix(":") {
                guard let parsed = Int(after.dropFirst()), (1...65535).contains(parsed) else { return .failure(EgressPolicyError("bad port in \(url)")) }
                port = parsed
            }
            host = String(host[...close])
        } else if let colon = host.lastIndex(of: ":") {
            guard let parsed = Int(host[host.index(after: colon)...]), (1...65535).contains(parsed) else {
                return .failure(EgressPolicyError("bad port in \(url)"))
            }
            port = parsed
            host = String(host[..<colon])
        }
        var name = host.lowercased()
        if name.hasSuffix(".") { name.removeLast() }
        guard !name.isEmpty else { return .failure(EgressPolicyError("\(url): no host")) }
        if let address = IPAddress(name) ?? IPAddress.lenientIPv4(name) {
            return .success(Target(scheme: scheme, host: name, port: port, address: address))
        }
        guard name.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "." }) else {
            return .failure(EgressPolicyError("\(host): not a valid host name"))
        }
        return .success(Target(scheme: scheme, host: name, port: port, address: nil))
    }

    public struct Target: Equatable, Sendable {
        public let scheme: String
        public let host: String
        public let port: Int
        /// Set when the host is an address literal (in any of its spellings).
        public let address: IPAddress?
    }
}

public struct EgressPolicyError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
