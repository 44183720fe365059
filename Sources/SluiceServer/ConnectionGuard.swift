import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import SluiceCore

/// Hummingbird's HTTP/1 request and response parts (swift-nio-extras' `HTTPRequestPart` and
/// `HTTPResponsePart`), named through Hummingbird's own connection handler so that this module
/// needs no further package for them.
typealias RequestPart = HTTPConnectionStateHandler.InboundIn
typealias ResponsePart = HTTPConnectionStateHandler.OutboundIn

/// What every connection's ``ConnectionGuard`` enforces (from ``ServerConfiguration``).
struct ConnectionPolicy: Sendable {
    var headerTimeout: Duration
    var bodyTimeout: Duration
    var idleTimeout: Duration
    let connections: OpenConnections
    let metrics: ServiceMetrics
    let logger: Logger
}

/// One connection's guard against slow and surplus clients. It admits the connection under the
/// cap of ``OpenConnections`` (or answers 503 and closes it), and it closes the connection when
/// a request head, a request body or, on a kept-alive connection, the next request does not come
/// in time: 408 where a response can still be given, else only closed. While the service works
/// on a request no timer runs (user code has its own time limit).
///
/// Hummingbird adds it after its HTTP/1 codec (`HTTP1Channel.Configuration.additionalChannelHandlers`).
/// The codec reports a head only once it is complete, so the guard puts a ``ReceivedBytesObserver``
/// at the front of the pipeline: the header timeout of a kept-alive connection starts at the first
/// byte of its next request, and the idle timeout covers the wait before it.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = RequestPart
    typealias InboundOut = RequestPart
    typealias OutboundIn = ResponsePart
    typealias OutboundOut = ResponsePart

    /// The wait that ran out; the `timeout` label of `sluice_http_connection_timeouts_total`.
    enum Timeout: String {
        /// A request head was not complete in time.
        case header
        /// A request body was not complete in time.
        case body
        /// A kept-alive connection sent no next request in time.
        case idle
    }

    private enum Admission { case pending, admitted, refused, closed }

    /// The header every request reaches the routes with: the client's IP address.
    static let peerHeader = HTTPField.Name("X-Sluice-Peer")!

    private let policy: ConnectionPolicy
    private var admission = Admission.pending
    /// Requests whose head has been read and whose response has not ended.
    private var requestsInProgress = 0
    /// A head has been read and the end of its body has not.
    private var readingRequest = false
    /// A response head has been written and the response's end has not.
    private var responding = false
    /// No request has been read yet: waiting is the header timeout's, from the opening.
    private var awaitingFirstRequest = true
    /// Bytes arrived since the last request ended: a next request has begun.
    private var receivedSinceLastRequest = false
    /// A timeout ran out; the connection closes (after the 408 the route answers, for a body).
    private var closing = false
    private var timer: (timeout: Timeout, task: Scheduled<Void>)?
    private var context: ChannelHandlerContext?

    init(policy: ConnectionPolicy) {
        self.policy = policy
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        do {
            try context.pipeline.syncOperations.addHandler(ReceivedBytesObserver(connectionGuard: self), position: .first)
        } catch {
            policy.logger.error("cannot guard a connection; closing it", metadata: ["error": "\(error)"])
            context.close(promise: nil)
            return
        }
        if context.channel.isActive { becameActive(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        becameActive(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused or timed-out connection's requests go nowhere.
        guard admission == .admitted, !closing else { return }
        var data = data
        switch unwrapInboundIn(data) {
        case .head(var head):
            requestsInProgress += 1
            readingRequest = true
            // The client's address, for the rollout audit list; set here, so no client can send its own.
            head.headerFields[Self.peerHeader] = context.channel.remoteAddress?.ipAddress ?? "unknown"
            data = wrapInboundOut(.head(head))
        case .body:
            break
        case .end:
            readingRequest = false
            awaitingFirstRequest = false
            receivedSinceLastRequest = false
        }
        rearm(context)
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            responding = true
            if closing {
                head.headerFields[.connection] = "close"
                context.write(wrapOutboundOut(.head(head)), promise: promise)
                return
            }
        case .body:
            break
        case .end:
            responding = false
            requestsInProgress = max(0, requestsInProgress - 1)
            if closing {
                let written = promise ?? context.eventLoop.makePromise()
                context.writeAndFlush(data, promise: written)
                written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
                return
            }
            rearm(context)
        }
        context.write(data, promise: promise)
    }

    /// Bytes arrived (told by the ``ReceivedBytesObserver``, before the codec reads them).
    func bytesReceived() {
        receivedSinceLastRequest = true
        if let context { rearm(context) }
    }

    private func becameActive(_ context: ChannelHandlerContext) {
        guard admission == .pending else { return }
        guard policy.connections.admit() else {
            admission = .refused
            respondAndClose(context, status: .serviceUnavailable,
                            message: "too many connections: the service holds \(policy.connections.limit), its limit")
            return
        }
        admission = .admitted
        rearm(context)
    }

    private func finish() {
        timer?.task.cancel()
        timer = nil
        if admission == .admitted { policy.connections.release() }
        admission = .closed
    }

    /// The wait the connection is in now, if any is timed.
    private var currentWait: Timeout? {
        guard admission == .admitted, !closing else { return nil }
        if readingRequest { return .body }
        if requestsInProgress > 0 { return nil }
        return awaitingFirstRequest || receivedSinceLastRequest ? .header : .idle
    }

    /// Starts the timer of the current wait when the wait has changed (a wait keeps the timer it
    /// started with: body parts do not extend the body timeout).
    private func rearm(_ context: ChannelHandlerContext) {
        let wait = currentWait
        guard timer?.timeout != wait else { return }
        timer?.task.cancel()
        timer = nil
        guard let wait else { return }
        let task = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(limit(of: wait))) { [self] in
            expired(wait, context)
        }
        timer = (wait, task)
    }

    private func limit(of timeout: Timeout) -> Duration {
        switch timeout {
        case .header: policy.headerTimeout
        case .body: policy.bodyTimeout
        case .idle: policy.idleTimeout
        }
    }

    private func expired(_ timeout: Timeout, _ context: ChannelHandlerContext) {
        timer = nil
        guard currentWait == timeout else { return }
        closing = true
        policy.metrics.connectionTimedOut(timeout.rawValue)
        switch timeout {
        case .idle:
            context.close(promise: nil)
        case .header where receivedSinceLastRequest:
            log(timeout, context, response: "408")
            respondAndClose(context, status: .requestTimeout, message: Self.message(timeout, limit(of: timeout)))
        case .header:
            // Nothing of a request arrived: no response (a client must not read one it never asked for).
            log(timeout, context, response: "none")
            context.close(promise: nil)
        case .body where requestsInProgress == 1 && !responding:
            // The route is still reading the body: its read fails with this error, which answers
            // 408; the connection closes after that response.
            log(timeout, context, response: "408")
            context.fireErrorCaught(RequestBodyTimeout(limit: limit(of: timeout)))
        case .body:
            // Its response has begun (or ended): only closing is left.
            log(timeout, context, response: "none")
            context.close(promise: nil)
        }
    }

    private func respondAndClose(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        let body = ByteBuffer(string: #"{"error":"\#(message)"}"#)
        let head = HTTPResponse(status: status, headerFields: [
            .contentType: "application/json", .contentLength: "\(body.readableBytes)", .connection: "close",
        ])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in context.close(promise: nil) }
    }

    private func log(_ timeout: Timeout, _ context: ChannelHandlerContext, response: String) {
        let peer = context.channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
        policy.logger.info("request timed out", metadata: [
            "connection.timeout": "\(timeout.rawValue)", "connection.peer": "\(peer)",
            "limit_ms": .stringConvertible(Int(limit(of: timeout).millisecondsValue)), "response": "\(response)",
        ])
    }

    /// `request head not complete within 10000 ms`.
    static func message(_ timeout: Timeout, _ limit: Duration) -> String {
        "request \(timeout == .header ? "head" : "body") not complete within \(Int(limit.millisecondsValue)) ms"
    }
}

@available(*, unavailable)
extension ConnectionGuard: Sendable {}

/// Sits at the front of a connection's pipeline, ahead of the HTTP codec, and tells the
/// connection's ``ConnectionGuard`` when bytes arrive.
final class ReceivedBytesObserver: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let connectionGuard: ConnectionGuard

    init(connectionGuard: ConnectionGuard) {
        self.connectionGuard = connectionGuard
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connectionGuard.bytesReceived()
        context.fireChannelRead(data)
    }
}

@available(*, unavailable)
extension ReceivedBytesObserver: Sendable {}

/// A request body that did not arrive within the body timeout. The guard fails the route's read
/// of the body with it, and the route's error becomes this response: 408 `{"error": "…"}`.
struct RequestBodyTimeout: HTTPResponseError {
    let limit: Duration
    var status: HTTPResponse.Status { .requestTimeout }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        SluiceService.json(408, #"{"error":"\#(ConnectionGuard.message(.body, limit))"}"#.utf8)
    }
}
