import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
@testable import SluiceServer
import Testing

/// The connection guard's timers and cap on an embedded channel, in virtual time: requests and
/// responses are the parts Hummingbird's codec reads and writes.
@Suite struct ConnectionGuardTests {
    /// A policy, its metrics and its log lines.
    struct Fixture {
        let metrics = ServiceMetrics()
        let lines = ObservabilityTests.Lines()
        let policy: ConnectionPolicy

        init(header: Int64 = 100, body: Int64 = 100, idle: Int64 = 1000, maximumConnections: Int = 10) {
            let lines = self.lines
            let logger = Logger(label: "sluice") { JSONLogHandler(label: $0, write: lines.append) }
            policy = ConnectionPolicy(headerTimeout: .milliseconds(header), bodyTimeout: .milliseconds(body), idleTimeout: .milliseconds(idle),
                                      connections: OpenConnections(limit: maximumConnections, metrics: metrics, logger: logger),
                                      metrics: metrics, logger: logger)
        }

        /// A connected channel with a guard of this policy.
        func connection() throws -> (EmbeddedChannel, ConnectionGuard) {
            let connectionGuard = ConnectionGuard(policy: policy)
            let channel = EmbeddedChannel()
            try channel.pipeline.syncOperations.addHandler(connectionGuard)
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 40000)).wait()
            return (channel, connectionGuard)
        }

        var exposition: String { String(decoding: metrics.exposition(), as: UTF8.self) }
    }

    static let post = RequestPart.head(HTTPRequest(method: .post, scheme: nil, authority: "localhost", path: "/customTransform"))

    /// Every part the guard wrote: the response the client sees.
    static func written(_ channel: EmbeddedChannel) throws -> [ResponsePart] {
        var parts: [ResponsePart] = []
        while let part = try channel.readOutbound(as: ResponsePart.self) { parts.append(part) }
        return parts
    }

    /// One whole request read and answered 200: the connection is kept alive.
    static func exchange(_ channel: EmbeddedChannel) throws {
        try channel.writeInbound(post)
        try channel.writeInbound(RequestPart.end(nil))
        try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(ResponsePart.end(nil))
    }

    static func bodyText(_ parts: [ResponsePart]) -> String {
        parts.compactMap { if case .body(let buffer) = $0 { String(buffer: buffer) } else { nil } }.joined()
    }

    @Test func aHeadNotCompleteInTimeGets408AndTheConnectionIsClosed() throws {
        let fixture = Fixture()
        let (channel, connectionGuard) = try fixture.connection()
        connectionGuard.bytesReceived()   // "POST /customTr" and no more
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(channel.isActive)
        #expect(try Self.written(channel).isEmpty)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        let parts = try Self.written(channel)
        guard case .head(let head) = parts.first else { Issue.record("no response head: \(parts)"); return }
        #expect(head.status == .requestTimeout)
        #expect(head.headerFields[.connection] == "close")
        #expect(Self.bodyText(parts) == #"{"error":"request head not complete within 100 ms"}"#)
        #expect(!channel.isActive)
        #expect(fixture.policy.connections.count == 0)
        #expect(fixture.exposition.contains(#"sluice_http_connection_timeouts_total{timeout="header"} 1"#))
        let line = try #require(fixture.lines.all.first { $0.contains("request timed out") })
        #expect(line.contains(#""connection.timeout":"header""#) && line.contains(#""response":"408""#))
        #expect(line.contains(#""connection.peer":"127.0.0.1:40000""#) && line.contains(#""limit_ms":100"#))
    }

    @Test func aConnectionThatSendsNothingIsClosedWithoutAnAnswerAfterTheHeaderTimeout() throws {
        let fixture = Fixture()
        let (channel, _) = try fixture.connection()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        #expect(!channel.isActive)
        #expect(try Self.written(channel).isEmpty)
        #expect(fixture.exposition.contains(#"sluice_http_connection_timeouts_total{timeout="header"} 1"#))
    }

    @Test func aBodyNotCompleteInTimeFailsTheRoutesReadWhichAnswers408AndTheConnectionThenCloses() throws {
        let fixture = Fixture(header: 100, body: 300)
        let (channel, _) = try fixture.connection()
        try channel.writeInbound(Self.post)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))   // past the header timeout: no longer in force
        try channel.writeInbound(RequestPart.body(ByteBuffer(string: "[{")))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))    // body parts do not extend the body timeout
        #expect(channel.isActive)
        #expect(throws: Never.self) { try channel.throwIfErrorCaught() }
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(channel.isActive, "the route answers first")
        #expect(throws: RequestBodyTimeout.self) { try channel.throwIfErrorCaught() }
        #expect(RequestBodyTimeout(limit: .milliseconds(300)).status == .requestTimeout)
        // What Hummingbird writes for the route's error; the guard asks the client to close and closes.
        try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .requestTimeout)))
        try channel.writeOutbound(ResponsePart.end(nil))
        let parts = try Self.written(channel)
        guard case .head(let head) = parts.first else { Issue.record("no response head: \(parts)"); return }
        #expect(head.headerFields[.connection] == "close")
        #expect(!channel.isActive)
        #expect(fixture.exposition.contains(#"sluice_http_connection_timeouts_total{timeout="body"} 1"#))
        #expect(fixture.lines.all.contains { $0.contains(#""connection.timeout":"body""#) && $0.contains(#""response":"408""#) })
    }

    @Test func aBodyStillComingAfterItsResponseEndedIsOnlyClosedAtTheBodyTimeout() throws {
        let fixture = Fixture()
        let (channel, _) = try fixture.connection()
        try channel.writeInbound(Self.post)
        // An early answer (413 by its Content-Length), while the body keeps coming.
        try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .contentTooLarge)))
        try channel.writeOutbound(ResponsePart.end(nil))
        _ = try Self.written(channel)
        try channel.writeInbound(RequestPart.body(ByteBuffer(string: "xxxx")))
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(100))
        #expect(!channel.isActive)
        #expect(try Self.written(channel).isEmpty)
        #expect(throws: Never.self) { try channel.throwIfErrorCaught() }
        #expect(fixture.lines.all.contains { $0.contains(#""connection.timeout":"body""#) && $0.contains(#""response":"none""#) })
    }

    @Test func noTimerRunsWhileTheServiceWorksOnARequest() throws {
        let fixture = Fixture()
        let (channel, _) = try fixture.connection()
        try channel.writeInbound(Self.post)
        try channel.writeInbound(RequestPart.end(nil))
        channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(channel.isActive)
        try channel.writeOutbound(ResponsePart.head(HTTPResponse(status: .ok)))
        try channel.writeOutbound(ResponsePart.end(nil))
        let parts = try Self.written(channel)
        guard case .head(let head) = parts.first else { Issue.record("no response head: \(parts)"); return }
        #expect(head.headerFields[.connection] == nil)
        #expect(channel.isActive)
        #expect(!fixture.exposition.contains("sluice_http_connection_timeouts_total"))
    }

    @Test func aKeptAliveConnectionWaitsTheIdleTimeoutAndANextRequestsFirstByteStartsTheHeaderTimeout() throws {
        let fixture = Fixture(header: 100, body: 100, idle: 1000)
        let (channel, connectionGuard) = try fixture.connection()
        try Self.exchange(channel)
        _ = try Self.written(channel)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(900))   // far past the header timeout: idle, kept
        #expect(channel.isActive)
        connectionGuard.bytesReceived()                                   // a next request begins, and stalls
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(99))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!channel.isActive)
        guard case .head(let head) = try Self.written(channel).first else { Issue.record("no 408"); return }
        #expect(head.status == .requestTimeout)

        let (idle, _) = try fixture.connection()
        try Self.exchange(idle)
        _ = try Self.written(idle)
        idle.embeddedEventLoop.advanceTime(by: .milliseconds(999))
        #expect(idle.isActive)
        idle.embeddedEventLoop.advanceTime(by: .milliseconds(1))
        #expect(!idle.isActive)
        #expect(try Self.written(idle).isEmpty, "an idle connection is closed without an answer")
        #expect(fixture.exposition.contains(#"sluice_http_connection_timeouts_total{timeout="idle"} 1"#))
        #expect(!fixture.lines.all.contains { $0.contains(#""connection.timeout":"idle""#) }, "idle closes are normal: counted, not logged")
    }

    @Test func pastTheCapANewConnectionGets503AndIsClosedWhileTheOpenOnesAreServed() throws {
        let fixture = Fixture(maximumConnections: 2)
        let (first, _) = try fixture.connection()
        let (second, _) = try fixture.connection()
        #expect(fixture.policy.connections.count == 2)
        #expect(fixture.exposition.contains("sluice_http_connections_open 2"))

        let (refused, _) = try fixture.connection()
        let parts = try Self.written(refused)
        guard case .head(let head) = parts.first else { Issue.record("no 503: \(parts)"); return }
        #expect(head.status == .serviceUnavailable && head.headerFields[.connection] == "close")
        #expect(Self.bodyText(parts) == #"{"error":"too many connections: the service holds 2, its limit"}"#)
        #expect(!refused.isActive)
        #expect(fixture.exposition.contains("sluice_http_connections_rejected_total 1"))
        #expect(fixture.lines.all.contains { $0.contains("connection limit reached") && $0.contains(#""connections.limit":2"#) })

        // The open ones go on as before; a closed one frees its place.
        try first.writeInbound(Self.post)
        guard case .head(var passed) = try first.readInbound(as: RequestPart.self), case .head(let sent) = Self.post else {
            Issue.record("the request head did not reach the routes")
            return
        }
        passed.headerFields[ConnectionGuard.peerHeader] = nil   // the client's address, added for the routes
        #expect(passed == sent)
        #expect(first.isActive && second.isActive)
        _ = try second.finish()
        #expect(fixture.policy.connections.count == 1)
        let (third, _) = try fixture.connection()
        #expect(third.isActive && fixture.policy.connections.count == 2)
        #expect(try Self.written(third).isEmpty)
    }
}
