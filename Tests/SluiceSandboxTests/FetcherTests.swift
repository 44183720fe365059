#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore
import SluiceSandbox
import Testing

/// A tiny HTTP/1.1 server on a loopback port, one thread per connection, for the fetcher's
/// tests: `/json`, `/echo` (method, Host and body back as JSON), `/redirect?to=URL`, `/big`
/// (6 MB), `/slow` (a slow-loris body: one byte every 100 ms).
final class LoopbackHTTPServer: @unchecked Sendable {
    let port: Int
    private let listener: Int32

    init() {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 64)
        var bound = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &bound) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        listener = fd
        port = Int(UInt16(bigEndian: bound.sin_port))
        spawn { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { return }
                spawn { Self.serve(connection) }
            }
        }
    }

    private static func serve(_ connection: Int32) {
        defer { close(connection) }
        var request: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        while headerEnd == nil {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { return }
            request += buffer[0..<count]
            headerEnd = find([13, 10, 13, 10], in: request)
        }
        let head = String(decoding: request[0..<headerEnd!], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        let method = String(requestLine[0])
        let target = String(requestLine[1])
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Array(request[(headerEnd! + 4)...])
        while body.count < length {
            let count = recv(connection, &buffer, buffer.count, 0)
            if count <= 0 { break }
            body += buffer[0..<count]
        }
        func respond(_ status: String, _ extraHeaders: [String] = [], _ payload: [UInt8]) {
            let text = (["HTTP/1.1 \(status)", "Content-Length: \(payload.count)", "Connection: close"] + extraHeaders).joined(separator: "\r\n") + "\r\n\r\n"
            sendAll(connection, Array(text.utf8) + payload)
        }
        let path = target.split(separator: "?").first.map(String.init) ?? target
        switch path {
        case "/json":
            respond("200 OK", ["Content-Type: application/json"], Array(#"{"ok":true}"#.utf8))
        case "/echo":
            let echo = #"{"method":"\#(method)","host":"\#(headers["host"] ?? "")","body":"\#(String(decoding: body, as: UTF8.self))","custom":"\#(headers["x-custom"] ?? "")"}"#
            respond("200 OK", ["Content-Type: application/json"], Array(echo.utf8))
        case "/redirect":
            let location = target.split(separator: "=", maxSplits: 1).last.map(String.init) ?? "/json"
            respond("302 Found", ["Location: \(location)"], [])
        case "/see-other":
            respond("303 See Other", ["Location: /echo"], [])
        case "/big":
            respond("200 OK", [], [UInt8](repeating: 0x61, count: 6 << 20))
        case "/slow":
            sendAll(connection, Array("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n".utf8))
            for _ in 0..<1000 {
                usleep(100_000)
                guard send(connection, "x", 1, Int32(MSG_NOSIGNAL)) == 1 else { return }
            }
        default:
            respond("404 Not Found", [], Array("no".utf8))
        }
    }

    private static func sendAll(_ connection: Int32, _ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes.withUnsafeBytes { send(connection, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
            if count <= 0 { return }
            sent += count
        }
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle { return start }
        return nil
    }
}

private func spawn(_ body: @escaping @Sendable () -> Void) {
    final class Box { let body: @Sendable () -> Void; init(_ body: @escaping @Sendable () -> Void) { self.body = body } }
    var thread = pthread_t()
    pthread_create(&thread, nil, { argument in
        Unmanaged<Box>.fromOpaque(argument!).takeRetainedValue().body()
        return nil
    }, Unmanaged.passRetained(Box(body)).toOpaque())
    pthread_detach(thread)
}

let loopback = LoopbackHTTPServer()

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
    }

    @Test func aResponsePastTheCapFails() {
        guard case .failure(let failure) = fetch(allowingLoopback, base + "/big") else {
            Issue.record("6 MB were accepted under a 5 MB cap")
            return
        }
        #expect(failure.kind == "too_large")
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
