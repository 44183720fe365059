#if canImport(Glibc)
import Glibc
#endif
import Foundation
import NIOSSL
import SluiceCore
import SluiceSandbox
import SluiceTestSupport
import Testing

/// The fetcher's loopback server: `/json`, `/echo` (method, Host and body back as JSON),
/// `/redirect?to=URL`, `/see-other`, `/big` (6 MB), `/slow` (a slow-loris body: one byte every 100 ms).
let loopback = LoopbackHTTPServer { request, connection in
    switch request.path {
    case "/json":
        connection.respond("200 OK", ["Content-Type: application/json"], Array(#"{"ok":true}"#.utf8))
    case "/echo":
        let echo = #"{"method":"\#(request.method)","host":"\#(request.headers["host"] ?? "")","body":"\#(String(decoding: request.body, as: UTF8.self))","custom":"\#(request.headers["x-custom"] ?? "")"}"#
        connection.respond("200 OK", ["Content-Type: application/json"], Array(echo.utf8))
    case "/redirect":
        let location = request.target.split(separator: "=", maxSplits: 1).last.map(String.init) ?? "/json"
        connection.respond("302 Found", ["Location: \(location)"])
    case "/see-other":
        connection.respond("303 See Other", ["Location: /echo"])
    case "/big":
        connection.respond("200 OK", [], [UInt8](repeating: 0x61, count: 6 << 20))
    case "/slow":
        connection.send(Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".utf8))
        for _ in 0..<1000 {
            usleep(100_000)
            guard connection.send([0x78]) else { return }
        }
    default:
        connection.respond("404 Not Found", [], Array("no".utf8))
    }
}

@Suite struct FetcherTests {
    /// A fetcher that may reach loopback (as an operator's SLUICE_FETCH_ALLOW would), nothing else private.
    let allowingLoopback: Fetcher = {
        var limits = FetchLimits()
        limits.timeout = .milliseconds(800)
        return Fetcher(policy: EgressPolicy(allow: [CIDR("127.0.0.0/8")!]), limits: limits)
    }()
    var base: String { "http://127.0.0.1:\(loopback.port)" }

    func fetch(_ fetcher: Fetcher, _ url: String, method: String = "GET", body: String? = nil, headers: [String: String] = [:],
               remaining: UInt64 = 10_000_000_000) -> Result<FetchResponse, FetchFailure> {
        fetcher.fetch(FetchRequest(url: url, method: method, headers: headers, body: body.map { Array($0.utf8) }), remainingNanoseconds: remaining)
    }

    @Test func anAllowedRangeIsFetchedWithTheOriginalHostAndBody() throws {
        let response = try fetch(allowingLoopback, base + "/json").get()
        #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == #"{"ok":true}"#)
        #expect(response.headers["content-type"] == "application/json")
        let echo = try fetch(allowingLoopback, base + "/echo?x=1", method: "post", body: "hello", headers: ["X-Custom": "yes", "Host": "evil"]).get()
        #expect(String(decoding: echo.body, as: UTF8.self) == #"{"method":"POST","host":"127.0.0.1:\#(loopback.port)","body":"hello","custom":"yes"}"#)
    }

    @Test func theBuiltInPolicyRefusesLoopbackByAddressAndByName() {
        let guarded = Fetcher(policy: EgressPolicy())
        for url in [base + "/json", "http://localhost:\(loopback.port)/json", "http://2130706433:\(loopback.port)/json", "http://[::1]:\(loopback.port)/"] {
            guard case .failure(let failure) = fetch(guarded, url) else {
                Issue.record("\(url) was fetched")
                continue
            }
            #expect(failure.kind == "refused", "\(url): \(failure)")
        }
        if case .failure(let failure) = fetch(guarded, "http://localhost:\(loopback.port)/json") {
            #expect(failure.message.contains("localhost resolves to"), "\(failure.message)")
            #expect(failure.userMessage.hasPrefix("request to http://localhost:\(loopback.port)/json failed, reason: cannot use "), "\(failure.userMessage)")
        }
        guard case .failure(let scheme) = fetch(guarded, "file:///etc/passwd") else {
            Issue.record("file: was fetched")
            return
        }
        #expect(scheme.kind == "refused")
    }

    @Test func redirectsAreFollowedHopByHopAndEachHopIsChecked() throws {
        let followed = try fetch(allowingLoopback, base + "/redirect?to=/json").get()
        #expect(followed.status == 200 && followed.url == base + "/json")
        // 303 turns a POST into a GET without a body.
        let seeOther = try fetch(allowingLoopback, base + "/see-other", method: "POST", body: "x").get()
        #expect(String(decoding: seeOther.body, as: UTF8.self).contains(#""method":"GET""#))
        guard case .failure(let failure) = fetch(allowingLoopback, base + "/redirect?to=http://169.254.169.254/latest/meta-data/") else {
            Issue.record("the redirect to the metadata address was followed")
            return
        }
        #expect(failure.kind == "refused" && failure.message.contains("169.254.169.254"), "\(failure)")
        // What user code sees: rudder-transformer's words.
        #expect(failure.userMessage == "blocked request to non-public address: 169.254.169.254", "\(failure.userMessage)")
    }

    @Test func aResponsePastTheCapFails() {
        guard case .failure(let failure) = fetch(allowingLoopback, base + "/big") else {
            Issue.record("6 MB were accepted under a 5 MB cap")
            return
        }
        #expect(failure.kind == "too_large")
    }

    @Test func theLookupCountsAgainstTheTimeoutAndItsAnswerIsTheAddressConnectedTo() throws {
        var limits = FetchLimits()
        limits.timeout = .milliseconds(300)
        let allowLoopback = EgressPolicy(allow: [CIDR("127.0.0.0/8")!])
        // A resolver that hangs (as a dead DNS server makes getaddrinfo do, for up to tens of seconds).
        let hanging = Fetcher(policy: allowLoopback, limits: limits, resolver: { _ in usleep(3_000_000); return [] })
        for (remaining, budget) in [(UInt64(10_000_000_000), 300), (100_000_000, 100)] {
            let start = ContinuousClock.now
            guard case .failure(let failure) = fetch(hanging, "http://hanging.test/", remaining: remaining) else {
                Issue.record("a hanging lookup answered")
                return
            }
            let elapsed = ContinuousClock.now - start
            #expect(failure.kind == "timeout" && failure.message.contains("looking up hanging.test did not finish within \(budget) ms"), "\(failure)")
            #expect(elapsed >= .milliseconds(budget - 20) && elapsed < .milliseconds(budget + 1000), "\(elapsed)")
        }
        // The answer is what the fetch connects to (the Host header keeps the name).
        let mapped = Fetcher(policy: allowLoopback, limits: limits, resolver: { host in host == "api.test" ? [IPAddress(bytes: [127, 0, 0, 1])!] : [] })
        let echo = try fetch(mapped, "http://api.test:\(loopback.port)/echo").get()
        #expect(String(decoding: echo.body, as: UTF8.self).contains(#""host":"api.test:\#(loopback.port)""#))
        guard case .failure(let unknown) = fetch(mapped, "http://nowhere.test/") else {
            Issue.record("an unresolvable name was fetched")
            return
        }
        #expect(unknown.kind == "network" && unknown.message == "fetch: cannot resolve nowhere.test", "\(unknown)")
        #expect(unknown.userMessage == "request to http://nowhere.test/ failed, reason: unable to resolve IP address for nowhere.test")
    }

    @Test func httpsVerifiesTheCertificateChainAndTheHostName() throws {
        let server = try LoopbackHTTPSServer()
        let allowLoopback = EgressPolicy(allow: [CIDR("127.0.0.0/8")!])
        let toLoopback: @Sendable (String) -> [IPAddress] = { _ in [IPAddress(bytes: [127, 0, 0, 1])!] }
        var trustingTheTestAuthority = TLSConfiguration.makeClientConfiguration()
        trustingTheTestAuthority.trustRoots = .certificates(try NIOSSLCertificate.fromPEMBytes(Array(TestCertificates.authority.utf8)))
        let trusting = Fetcher(policy: allowLoopback, resolver: toLoopback, tls: trustingTheTestAuthority)
        // The name the certificate is for, from an authority the client trusts: fetched.
        let response = try fetch(trusting, "https://localhost:\(server.port)/json").get()
        #expect(response.status == 200 && String(decoding: response.body, as: UTF8.self) == #"{"tls":true}"#)
        // Another name at the same address: the certificate does not cover it.
        guard case .failure(let wrongName) = fetch(trusting, "https://api.test:\(server.port)/json") else {
            Issue.record("a certificate for localhost was accepted for api.test")
            return
        }
        #expect(wrongName.kind == "network" && wrongName.message.contains("failedToValidateHostname"), "\(wrongName)")
        // The default client trusts the system's authorities only.
        let systemTrust = Fetcher(policy: allowLoopback, resolver: toLoopback)
        guard case .failure(let untrusted) = fetch(systemTrust, "https://localhost:\(server.port)/json") else {
            Issue.record("a certificate from an unknown authority was accepted")
            return
        }
        #expect(untrusted.kind == "network" && untrusted.message.contains("CERTIFICATE_VERIFY_FAILED"), "\(untrusted)")
        // An address literal: the chain is verified, and the certificate must name the address.
        guard case .failure(let literal) = fetch(trusting, "https://127.0.0.1:\(server.port)/json") else {
            Issue.record("a certificate for localhost was accepted for 127.0.0.1")
            return
        }
        #expect(literal.kind == "network" && literal.message.contains("failedToValidateHostname"), "\(literal)")
    }

    @Test func aSlowLorisEndsAtTheTimeoutAndNeverPastWhatTheCallHasLeft() {
        var start = monotonicNanoseconds()
        guard case .failure(let failure) = fetch(allowingLoopback, base + "/slow") else {
            Issue.record("the slow response completed")
            return
        }
        var elapsed = (monotonicNanoseconds() - start) / 1_000_000
        #expect(failure.kind == "timeout", "\(failure)")
        #expect(elapsed >= 700 && elapsed < 3000, "took \(elapsed) ms for an 800 ms timeout")
        // The call's own remaining time wins when it is shorter.
        start = monotonicNanoseconds()
        _ = fetch(allowingLoopback, base + "/slow", remaining: 200_000_000)
        elapsed = (monotonicNanoseconds() - start) / 1_000_000
        #expect(elapsed < 1500, "took \(elapsed) ms with 200 ms left")
    }

    @Test func unreachableHostsFailWithoutHanging() {
        guard case .failure(let failure) = fetch(allowingLoopback, "http://127.0.0.1:1/") else {
            Issue.record("port 1 answered")
            return
        }
        #expect(failure.kind == "network")
    }
}
