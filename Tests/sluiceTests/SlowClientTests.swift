#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing

/// `sluice serve` against slow and surplus clients: thousands of stalled connections over
/// loopback, plain sockets, a deadline on every wait.
@Suite(.serialized) struct SlowClients {
    /// A TCP connection to the service on 127.0.0.1.
    final class Connection {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ServeCommand.CLIFailure("socket: errno \(errno)") }
            // Bounds connect and send.
            var timeout = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                let error = errno
                close(fd)
                throw ServeCommand.CLIFailure("connect: errno \(error)")
            }
        }

        deinit { close(fd) }

        func send(_ text: String) throws {
            let bytes = Array(text.utf8)
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                guard count > 0 else { throw ServeCommand.CLIFailure("send: errno \(errno)") }
                sent += count
            }
        }

        /// Bytes waiting now, or the peer's close (nothing is consumed).
        var hasInput: Bool {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            return poll(&poller, 1, 0) > 0
        }

        /// Reads what is there; nil once the peer has closed (or reset) the connection.
        func receive() -> [UInt8]? {
            var buffer = [UInt8](repeating: 0, count: 65536)
            let count = recv(fd, &buffer, buffer.count, 0)
            return count > 0 ? Array(buffer[0..<count]) : nil
        }

        /// One response (a head and its Content-Length body), read before `deadline`.
        func response(before deadline: ContinuousClock.Instant) throws -> (status: Int, head: String, body: String) {
            var bytes: [UInt8] = []
            while true {
                let text = String(decoding: bytes, as: UTF8.self)
                if let end = text.range(of: "\r\n\r\n") {
                    let head = String(text[..<end.lowerBound])
                    let length = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                        .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
                    let body = Array(text[end.upperBound...].utf8)
                    if body.count >= length {
                        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
                        return (status, head, String(decoding: body.prefix(length), as: UTF8.self))
                    }
                }
                let left = deadline - .now
                guard left > .zero else { throw ServeCommand.CLIFailure("no whole response in time: \(text)") }
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, Int32(left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000 + 1)) > 0 else { continue }
                guard let chunk = receive() else { throw ServeCommand.CLIFailure("closed before a whole response: \(text)") }
                bytes += chunk
            }
        }
    }

    /// What each connection received until the server closed it; nil for those still open at `deadline`.
    static func receivedUntilClosed(_ connections: [Connection], before deadline: ContinuousClock.Instant) -> [[UInt8]?] {
        var received = [[UInt8]?](repeating: nil, count: connections.count)
        var bytes = [[UInt8]](repeating: [], count: connections.count)
        var open = Array(connections.indices)
        while !open.isEmpty, ContinuousClock.now < deadline {
            var pollers = open.map { pollfd(fd: connections[$0].fd, events: Int16(POLLIN), revents: 0) }
            guard poll(&pollers, nfds_t(pollers.count), 100) > 0 else { continue }
            var stillOpen: [Int] = []
            for (slot, index) in open.enumerated() {
                guard pollers[slot].revents != 0 else { stillOpen.append(index); continue }
                if let chunk = connections[index].receive() {
                    bytes[index] += chunk
                    stillOpen.append(index)
                } else {
                    received[index] = bytes[index]
                }
            }
            open = stillOpen
        }
        return received
    }

    /// GET or POST on a fresh connection, answered before `deadline`; with how long it took.
    static func request(_ port: Int, _ method: String, _ path: String, body: String = "",
                        within limit: Duration = .seconds(10)) throws -> (status: Int, body: String, elapsed: Duration) {
        let start = ContinuousClock.now
        let connection = try Connection(port: port)
        try connection.send("\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        let response = try connection.response(before: start + limit)
        return (response.status, response.body, .now - start)
    }

    /// `/health`'s count of open connections.
    static func openConnections(_ connection: Connection) throws -> Int {
        try connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let health = try connection.response(before: .now + .seconds(10))
        let object = try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any]
        return try #require((object?["connections"] as? [String: Any])?["open"] as? Int)
    }

    /// Raises this process's soft open-file limit to its hard limit and returns the hard limit
    /// (the service, its child, inherits and raises the same).
    static func raiseOpenFileLimit() -> Int {
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)), &limit)
        limit.rlim_cur = limit.rlim_max
        setrlimit(__rlimit_resource_t(UInt32(RLIMIT_NOFILE.rawValue)), &limit)
        return limit.rlim_max == rlim_t.max ? Int.max : Int(limit.rlim_max)
    }

    /// As many stalled connections as the open-file limit allows, up to 2,000 (the service keeps
    /// 256 descriptors for itself; this process needs some too).
    static func stalledConnectionCount() throws -> Int {
        let count = min(2000, raiseOpenFileLimit() - 400)
        try #require(count >= 100, "the open-file limit leaves room for too few connections")
        return count
    }

    /// Keeps reading the server's standard error so that its logging (a line per timeout) never
    /// blocks on a full pipe; the text read so far.
    final class ErrorOutput: @unchecked Sendable {
        private let lock = NSLock()
        private var text = ""
        init(_ pipe: Pipe) {
            let handle = pipe.fileHandleForReading
            Thread.detachNewThread { [self] in
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { return }
                    lock.withLock { text += String(decoding: chunk, as: UTF8.self) }
                }
            }
        }
        var all: String { lock.withLock { text } }
    }

    /// Three ways to stall: half a head, a body shorter than its Content-Length, nothing at all.
    enum Stall: CaseIterable {
        case halfHead, shortBody, nothing

        var bytes: String {
            switch self {
            case .halfHead: "POST /customTransform HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Le"
            case .shortBody: "POST /customTransform HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n[{\"message\""
            case .nothing: ""
            }
        }

        static func of(_ index: Int) -> Stall { allCases[index % allCases.count] }
    }

    static func stall(_ count: Int, port: Int) throws -> [Connection] {
        try (0..<count).map { index in
            let connection = try Connection(port: port)
            let bytes = Stall.of(index).bytes
            if !bytes.isEmpty { try connection.send(bytes) }
            return connection
        }
    }

    static let transformations = ["tag/transform.js": "export function transformEvent(e) { e.tagged = true; return e; }"]

    @Test func timeoutsAndTheConnectionCapAreCheckedAtStart() throws {
        let zero = try sluice(["serve", "--header-timeout-ms", "0"])
        #expect(zero.status == 64 && zero.stderr.contains("the header timeout must be at least 1 ms"), "\(zero.stderr)")
        let word = try sluice(["serve"], environment: ["SLUICE_IDLE_TIMEOUT_MS": "soon"])
        #expect(word.status == 64 && word.stderr.contains("SLUICE_IDLE_TIMEOUT_MS=soon: the idle timeout must be a whole number"), "\(word.stderr)")
        let limit = Self.raiseOpenFileLimit()
        if limit < Int(Int32.max) {
            let tooMany = try sluice(["serve", "--max-connections", "\(limit)"])
            #expect(tooMany.status == 64 && tooMany.stderr.contains("connections need more descriptors than the open-file limit leaves room for"),
                    "\(tooMany.stderr)")
        }
    }

    @Test func thousandsOfStalledConnectionsLeaveHealthAndCustomTransformAnsweredPromptly() throws {
        let count = try Self.stalledConnectionCount()
        let root = try folder(Self.transformations)
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try ServeCommand.Server(transformations: root, arguments: [
            "--isolation", "in-process", "--workers", "1", "--header-timeout-ms", "120000", "--body-timeout-ms", "120000",
            "--max-connections", "\(count + 50)",
        ])
        let errors = ErrorOutput(server.errors)
        defer { _ = server.stop() }
        let observer = try Connection(port: server.port)
        #expect(try Self.openConnections(observer) == 1)

        var stalled = try Self.stall(count, port: server.port)
        // The service holds every one of them.
        let deadline = ContinuousClock.now + .seconds(20)
        var open = 0
        while open < count + 1, ContinuousClock.now < deadline { open = try Self.openConnections(observer) }
        #expect(open == count + 1, "\(errors.all)")

        var slowest = Duration.zero
        for _ in 0..<5 {
            let health = try Self.request(server.port, "GET", "/health")
            #expect(health.status == 200)
            slowest = max(slowest, health.elapsed)
        }
        #expect(slowest < .seconds(2), "/health took \(slowest) beside \(count) stalled connections")
        let transform = try Self.request(server.port, "POST", "/customTransform", body: ServeCommand.request(version: "tag", messages: [#"{"n":1}"#]))
        #expect(transform.status == 200 && transform.body.contains(#""tagged":true"#), "\(transform.body)")
        #expect(transform.elapsed < .seconds(2), "/customTransform took \(transform.elapsed) beside \(count) stalled connections")

        stalled.removeAll()
        var remaining = count + 1
        while remaining > 1, ContinuousClock.now < deadline + .seconds(10) { remaining = try Self.openConnections(observer) }
        #expect(remaining == 1, "closed connections are counted out")
    }

    @Test func stalledConnectionsAreAnswered408OrClosedWhenTheirTimeoutRunsOut() throws {
        let count = try Self.stalledConnectionCount()
        let root = try folder(Self.transformations)
        defer { try? FileManager.default.removeItem(at: root) }
        // 1 s, not less: with 300 ms, under this burst of 2,000 connections (a debug build, two
        // cores), 1–6 of them per run had their timer run out before the server had read their
        // first bytes, and were closed without an answer (the server had seen nothing to answer).
        let server = try ServeCommand.Server(
            transformations: root,
            arguments: ["--isolation", "in-process", "--workers", "1", "--header-timeout-ms", "1000", "--idle-timeout-ms", "4000"],
            environment: ["SLUICE_BODY_TIMEOUT_MS": "1000"])
        let errors = ErrorOutput(server.errors)
        defer { _ = server.stop() }

        // A kept-alive connection outlives the header timeout, and is closed, without an answer, at the idle timeout.
        let idle = try Connection(port: server.port)
        try idle.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(try idle.response(before: .now + .seconds(10)).status == 200)
        let answered = ContinuousClock.now

        let stalled = try Self.stall(count, port: server.port)
        let received = Self.receivedUntilClosed(stalled, before: .now + .seconds(20))
        var outcomes: [Stall: [String: Int]] = [:]
        for (index, bytes) in received.enumerated() {
            let text = bytes.map { String(decoding: $0, as: UTF8.self) }
            let outcome = switch text {
            case nil: "still open"
            case ""?: "closed"
            case let text? where text.hasPrefix("HTTP/1.1 408 Request Timeout\r\n") && text.contains("Connection: close"):
                text.hasSuffix(#"{"error":"request head not complete within 1000 ms"}"#) ? "408 head"
                    : text.hasSuffix(#"{"error":"request body not complete within 1000 ms"}"#) ? "408 body" : text
            case let text?: text
            }
            outcomes[Stall.of(index), default: [:]][outcome, default: 0] += 1
        }
        let kinds = (0..<count).map(Stall.of)
        let halfHeads = kinds.filter { $0 == .halfHead }.count, shortBodies = kinds.filter { $0 == .shortBody }.count
        let silent = count - halfHeads - shortBodies
        // A stalled connection whose first bytes the server had not read when its header timeout ran
        // out (a loaded machine) is closed without an answer, as one that sent nothing: allowed for
        // a few; the rest get their 408.
        let unreadHeads = outcomes[.halfHead]?["closed"] ?? 0, unreadBodies = outcomes[.shortBody]?["closed"] ?? 0
        #expect(unreadHeads + unreadBodies <= count / 50, "\(outcomes)")
        #expect(outcomes[.halfHead]?.filter { $0.key != "closed" } ?? [:] == ["408 head": halfHeads - unreadHeads], "\(outcomes)")
        #expect(outcomes[.shortBody]?.filter { $0.key != "closed" } ?? [:] == ["408 body": shortBodies - unreadBodies], "\(outcomes)")
        #expect(outcomes[.nothing] == ["closed": silent], "\(outcomes)")

        while ContinuousClock.now < answered + .milliseconds(1500) { usleep(10_000) }   // past the header timeout
        if ContinuousClock.now - answered < .milliseconds(3500) { #expect(!idle.hasInput, "an idle connection waits the idle timeout") }
        #expect(Self.receivedUntilClosed([idle], before: answered + .seconds(15)) == [[]], "closed at the idle timeout, without an answer")

        let metrics = try Self.request(server.port, "GET", "/metrics").body
        #expect(metrics.contains(#"sluice_http_connection_timeouts_total{timeout="header"} \#(halfHeads + silent + unreadBodies)"#), "\(metrics)")
        #expect(metrics.contains(#"sluice_http_connection_timeouts_total{timeout="body"} \#(shortBodies - unreadBodies)"#))
        #expect(metrics.contains(#"sluice_http_connection_timeouts_total{timeout="idle"} 1"#))
        #expect(metrics.contains(#"sluice_http_requests_total{endpoint="/customTransform",status="408"}"#))
        #expect(errors.all.contains("request timed out"))
        #expect(errors.all.contains("connection.timeout=body") && errors.all.contains("response=408"))
    }

    @Test func pastTheConnectionCapNewConnectionsGet503AndAreClosedWhileOpenOnesAreServed() throws {
        let root = try folder(Self.transformations)
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try ServeCommand.Server(transformations: root, arguments: ["--isolation", "in-process", "--workers", "1"],
                                             environment: ["SLUICE_MAX_CONNECTIONS": "100"])
        let errors = ErrorOutput(server.errors)
        defer { _ = server.stop() }
        let kept = try Connection(port: server.port)
        #expect(try Self.openConnections(kept) == 1)
        var stalled = try Self.stall(99, port: server.port)
        let deadline = ContinuousClock.now + .seconds(20)
        var open = 0
        while open < 100, ContinuousClock.now < deadline { open = try Self.openConnections(kept) }
        #expect(open == 100)

        let refused = try (0..<10).map { _ in try Connection(port: server.port) }
        for (index, bytes) in Self.receivedUntilClosed(refused, before: .now + .seconds(10)).enumerated() {
            let text = bytes.map { String(decoding: $0, as: UTF8.self) } ?? "still open"
            #expect(text.hasPrefix("HTTP/1.1 503 Service Unavailable\r\n"), "connection \(index): \(text)")
            #expect(text.hasSuffix(#"{"error":"too many connections: the service holds 100, its limit"}"#))
        }
        // The open ones are served as before.
        #expect(try Self.openConnections(kept) == 100)
        try kept.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let metrics = try kept.response(before: .now + .seconds(10)).body
        #expect(metrics.contains("sluice_http_connections_rejected_total 10"), "\(metrics)")
        #expect(metrics.contains("sluice_http_connections_open 100"))
        #expect(errors.all.contains("connection limit reached"))

        // A closed connection frees its place.
        stalled.removeLast()
        while open > 99, ContinuousClock.now < deadline { open = try Self.openConnections(kept) }
        #expect(open == 99)
        #expect(try Self.request(server.port, "GET", "/health").status == 200)
    }
}
