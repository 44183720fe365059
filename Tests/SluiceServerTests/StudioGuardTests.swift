import SluiceStudio
import Testing

/// Studio's request guard and error locations, without a server (the routes themselves are tested
/// end to end in sluiceTests/StudioCommandTests.swift).
struct StudioGuardTests {
    @Test func loopbackAddressesAreLoopbackAndNothingElseIs() {
        for host in ["127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost"] { #expect(StudioGuard.isLoopback(host: host), "\(host)") }
        for host in ["0.0.0.0", "10.0.0.1", "::", "192.168.1.1", "example.com", "128.0.0.1", "::2"] { #expect(!StudioGuard.isLoopback(host: host), "\(host)") }
    }

    @Test func aLoopbackStudioAnswersOnlyLoopbackHostNames() {
        let guardian = StudioGuard(loopbackOnly: true, token: "t")
        for host in ["127.0.0.1:9090", "localhost:9090", "[::1]:9090", "localhost"] { #expect(guardian.hostRefusal(host: host) == nil, "\(host)") }
        // DNS rebinding: a hostile name that resolves to 127.0.0.1 still carries its own name.
        #expect(guardian.hostRefusal(host: "rebind.evil.example:9090")?.contains("rebind.evil.example") == true)
        #expect(guardian.hostRefusal(host: nil) != nil)
        #expect(StudioGuard(loopbackOnly: false, token: "t").hostRefusal(host: "studio.internal:9090") == nil)
    }

    @Test func stateChangesNeedTheTokenAndThisOrigin() {
        let guardian = StudioGuard(loopbackOnly: true, token: "abc123")
        let host = "127.0.0.1:9090"
        #expect(guardian.refusal(origin: "http://127.0.0.1:9090", fetchSite: "same-origin", host: host, token: "abc123") == nil)
        #expect(guardian.refusal(origin: nil, fetchSite: nil, host: host, token: "abc123") == nil)
        #expect(guardian.refusal(origin: nil, fetchSite: nil, host: host, token: nil)?.contains("X-Sluice-Studio-Token") == true)
        #expect(guardian.refusal(origin: nil, fetchSite: nil, host: host, token: "abc124") != nil)
        #expect(guardian.refusal(origin: "http://127.0.0.1:9091", fetchSite: nil, host: host, token: "abc123")?.contains("Origin") == true)
        #expect(guardian.refusal(origin: "null", fetchSite: nil, host: host, token: "abc123") != nil)
        #expect(guardian.refusal(origin: nil, fetchSite: "cross-site", host: host, token: "abc123")?.contains("cross-site") == true)
        #expect(StudioGuard.newToken() != StudioGuard.newToken())
    }

    @Test func studioIsOnByDefaultOnlyOnLoopbackAndTheSwitchesWin() throws {
        #expect(try StudioGuard.enabled(explicit: nil, environment: nil, host: "127.0.0.1").get() == true)
        #expect(try StudioGuard.enabled(explicit: nil, environment: nil, host: "0.0.0.0").get() == false)
        #expect(try StudioGuard.enabled(explicit: nil, environment: "1", host: "0.0.0.0").get() == true)
        #expect(try StudioGuard.enabled(explicit: nil, environment: "0", host: "127.0.0.1").get() == false)
        #expect(try StudioGuard.enabled(explicit: false, environment: "1", host: "127.0.0.1").get() == false)
        #expect(throws: StudioProblem.self) { try StudioGuard.enabled(explicit: nil, environment: "maybe", host: "::1").get() }
    }

    @Test func errorLocationsAreFoundInTheUsersFileOnly() {
        let javascript = "TypeError: undefined is not an object\n    at sluice:driver:10:3\n    at transform (transform.js:7:14)"
        #expect(StudioLocation.find(in: javascript, fileName: "transform.js").map { [$0.line, $0.column ?? 0] } == [7, 14])
        let python = "Traceback:\n  File \"lib.py\", line 2\n  File \"transform.py\", line 12, in transform_event\nZeroDivisionError"
        #expect(StudioLocation.find(in: python, fileName: "transform.py")?.line == 12)
        #expect(StudioLocation.find(in: "transform.py:5:37: access to '__globals__' is not allowed", fileName: "transform.py")?.column == 37)
        let syntax = "SyntaxError: '(' was never closed (transform.py, line 2, column 9)"
        #expect(StudioLocation.find(in: syntax, fileName: "transform.py").map { [$0.line, $0.column ?? 0] } == [2, 9])
        #expect(StudioLocation.find(in: "no location here", fileName: "transform.js") == nil)
        #expect(StudioLocation.find(in: "at other.js:3:1", fileName: "transform.js") == nil)
    }
}
