import SluiceSandbox
import Testing

/// The guard's address table (issue 6): each row an address (in one of its spellings) and
/// whether `fetch` may connect to it under the default policy.
@Suite struct EgressPolicyTests {
    let policy = EgressPolicy()

    func decide(_ host: String) -> EgressPolicy.Decision {
        switch policy.target(of: "http://\(host)/path") {
        case .failure(let error): return .refused(error.message)
        case .success(let target):
            guard let address = target.address else { return .refused("not an address: \(host)") }
            return policy.decision(for: address)
        }
    }

    @Test(arguments: [
        "127.0.0.1", "127.255.255.254", "10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1",
        "169.254.169.254", "0.0.0.0", "224.0.0.1", "239.255.255.250", "255.255.255.255", "240.0.0.1", "198.18.0.1",
        "192.0.2.1", "[::1]", "[::]", "[fc00::1]", "[fd12:3456::1]", "[fe80::1]", "[ff02::1]",
        // IPv4 inside IPv6
        "[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::ffff:169.254.169.254]", "[::127.0.0.1]", "[64:ff9b::10.0.0.1]", "[2002:7f00:1::]",
        // inet_aton spellings of loopback and metadata
        "2130706433", "0x7f000001", "0177.0.0.1", "0x7f.0.0.1", "127.1", "0177.1", "017700000001", "2852039166", "0xa9.0xfe.0xa9.0xfe",
        // trailing dot, upper case hex
        "127.0.0.1.", "0X7F000001",
    ])
    func refused(_ host: String) {
        if case .allowed = decide(host) { Issue.record("\(host) was allowed") }
    }

    @Test(arguments: ["93.184.215.14", "8.8.8.8", "1.1.1.1", "[2606:4700:4700::1111]", "[::ffff:8.8.8.8]", "172.32.0.1", "100.128.0.1", "11.0.0.1"])
    func allowed(_ host: String) {
        #expect(decide(host) == .allowed)
    }

    @Test func theReasonNamesTheRange() {
        #expect(decide("169.254.169.254") == .refused("169.254.169.254 is a link-local address (cloud metadata lives here)"))
        #expect(decide("[::ffff:10.0.0.1]") == .refused("::ffff:10.0.0.1 carries 10.0.0.1: 10.0.0.1 is a private address"))
    }

    @Test func onlyHTTPAndHTTPSWithoutCredentials() throws {
        for url in ["file:///etc/passwd", "ftp://example.com/", "gopher://example.com", "javascript:alert(1)", "//example.com", "example.com"] {
            if case .success = policy.target(of: url) { Issue.record("\(url) was accepted") }
        }
        if case .success = policy.target(of: "http://user:pass@example.com/") { Issue.record("credentials were accepted") }
        let target = try policy.target(of: "HTTPS://Example.COM:8443/x?y").get()
        #expect(target.scheme == "https" && target.host == "example.com" && target.port == 8443 && target.address == nil)
        #expect(try policy.target(of: "http://[::1]:8080/").get().port == 8080)
        if case .success = policy.target(of: "http://exa mple.com/") { Issue.record("a host with a space was accepted") }
        if case .success = policy.target(of: "http://example.com:99999/") { Issue.record("a bad port was accepted") }
    }

    @Test func anAllowedRangeLiftsTheBuiltInDenialForThatRangeOnlyAndDenyAlwaysWins() throws {
        let operatorPolicy = try EgressPolicy.fromEnvironment(["SLUICE_FETCH_ALLOW": "127.0.0.1/32, 10.9.0.0/16", "SLUICE_FETCH_DENY": "10.9.9.0/24,8.8.8.8"])
        #expect(operatorPolicy.decision(for: IPAddress("127.0.0.1")!) == .allowed)
        #expect(operatorPolicy.decision(for: IPAddress("127.0.0.2")!) != .allowed)
        #expect(operatorPolicy.decision(for: IPAddress("10.9.1.1")!) == .allowed)
        #expect(operatorPolicy.decision(for: IPAddress("10.9.9.1")!) == .refused("10.9.9.1 is in the operator's denied range 10.9.9.0/24"))
        #expect(operatorPolicy.decision(for: IPAddress("8.8.8.8")!) != .allowed)
        #expect(operatorPolicy.decision(for: IPAddress("169.254.169.254")!) != .allowed)
        #expect(throws: EgressPolicyError.self) { try EgressPolicy.fromEnvironment(["SLUICE_FETCH_ALLOW": "localhost"]) }
        #expect(throws: EgressPolicyError.self) { try EgressPolicy.fromEnvironment(["SLUICE_FETCH_DENY": "10.0.0.0/33"]) }
    }

    @Test func lenientIPv4FollowsInetAton() {
        #expect(IPAddress.lenientIPv4("127.1")?.description == "127.0.0.1")
        #expect(IPAddress.lenientIPv4("1.2.3")?.description == "1.2.0.3")
        #expect(IPAddress.lenientIPv4("0x7f.1")?.description == "127.0.0.1")
        #expect(IPAddress.lenientIPv4("256.1.1.1") == nil)
        #expect(IPAddress.lenientIPv4("1.2.3.4.5") == nil)
        #expect(IPAddress.lenientIPv4("08.0.0.1") == nil)  // 8 is not an octal digit
        #expect(IPAddress.lenientIPv4("example") == nil)
    }

    /// The geolocation service's origin (issue 12, row 6): allowed on a loopback address for
    /// exactly that scheme, host and port; the operator's deny list still wins.
    @Test func anAllowedOriginLiftsTheBuiltInDenialForThatOriginOnly() throws {
        let origin = try #require(EgressPolicy.Origin(url: "http://127.0.0.1:8080/base"))
        let policy = EgressPolicy(allowedOrigins: [origin])
        func decide(_ url: String, _ policy: EgressPolicy) throws -> EgressPolicy.Decision {
            guard case .success(let target) = policy.target(of: url), let address = target.address else { throw EgressPolicyError(url) }
            return policy.decision(for: address, target: target)
        }
        #expect(try decide("http://127.0.0.1:8080/geoip/1.1.1.1", policy) == .allowed)
        #expect(try decide("http://127.0.0.1:8081/geoip/1.1.1.1", policy) == .refused("127.0.0.1 is a loopback address"))
        #expect(try decide("https://127.0.0.1:8080/", policy) == .refused("127.0.0.1 is a loopback address"))
        #expect(try decide("http://127.0.0.2:8080/", policy) == .refused("127.0.0.2 is a loopback address"))
        let denying = EgressPolicy(deny: [try #require(CIDR("127.0.0.0/8"))], allowedOrigins: [origin])
        #expect(try decide("http://127.0.0.1:8080/", denying) == .refused("127.0.0.1 is in the operator's denied range 127.0.0.0/8"))
    }
}
