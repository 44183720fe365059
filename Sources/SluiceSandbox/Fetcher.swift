#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SluiceCore

/// Caps on what user code's `fetch` may do, each with its default.
public struct FetchLimits: Sendable {
    /// Longest one fetch may take, redirects included (default 5 s) — and never longer than what
    /// the call has left of its time limit.
    public var timeout: Duration = .seconds(5)
    /// Largest response body (default 5 MiB); a larger one fails the fetch.
    public var maximumResponseBytes = 5 << 20
    /// Redirects followed (default 5); every hop is checked by the egress guard again.
    public var maximumRedirects = 5
    /// Fetches one invocation (one `transformEvent` or `transformBatch` call) may make
    /// (default 20); past it, `fetch` answers "ERROR" and `fetchV2` rejects.
    public var callsPerInvocation = 20

    public init() {}
}

/// Performs `fetch` for user code, through the egress guard: the URL's scheme and form are
/// checked, a host name is resolved and **every** address it resolves to is checked (one refused
/// answer refuses the request, so a name cannot mix a public and a private address), and the
/// connection goes to the checked address itself — never a second resolution — with the original
/// host in the Host header and, for https, in SNI and certificate verification. Redirects are
/// followed hop by hop, each checked the same way. A timeout bounds the whole exchange and a cap
/// bounds the response body; the host-name lookup counts against the same timeout.
///
/// Blocking: call it from a thread that may wait (the server's worker threads), never from an
/// event loop.
public final class Fetcher: Sendable {
    public let policy: EgressPolicy
    public let limits: FetchLimits
    private let group: any EventLoopGroup
    private let tls: NIOSSLContext?
    private let lookups: TimedLookups

    /// `resolver` answers host-name lookups (default: the system's, `getaddrinfo`); it runs on a
    /// thread of its own and the fetch stops waiting for it at the fetch's deadline. `tls` is the
    /// https client configuration (default: the system's trust store, full verification).
    public init(policy: EgressPolicy, limits: FetchLimits = FetchLimits(), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                resolver: @escaping @Sendable (String) -> [IPAddress] = Fetcher.resolve(host:),
                tls: TLSConfiguration = .makeClientConfiguration()) {
        self.policy = policy
        self.limits = limits
        self.group = group
        self.tls = try? NIOSSLContext(configuration: tls)
        lookups = TimedLookups(resolver: resolver)
    }

    /// User code's fetches performed by this fetcher, for a run with no geolocation service
    /// (`sluice run --allow-net`): `fetch`/`fetchV2` go through the egress guard, `geolocation(ip)`
    /// fails with ``Geolocation/unavailableMessage``.
    public var userCodeHandler: FetchHandler {
        { [self] request, remaining in
            guard request.purpose == .fetch else {
                return .failure(FetchFailure(kind: "unavailable", message: Geolocation.unavailableMessage))
            }
            return fetch(request, remainingNanoseconds: remaining)
        }
    }

    /// Fetches `request`, giving up after the smaller of ``FetchLimits/timeout`` and `remainingNanoseconds`.
    public func fetch(_ request: FetchRequest, remainingNanoseconds: UInt64) -> Result<FetchResponse, FetchFailure> {
        let budget = min(UInt64(limits.timeout.millisecondsValue * 1_000_000), remainingNanoseconds)
        let deadline = monotonicNanoseconds() + budget
        var url = request.url
        var method = request.method.uppercased()
        var body = request.body
        for hop in 0...limits.maximumRedirects {
            let target: EgressPolicy.Target
            switch policy.target(of: url) {
            case .success(let found): target = found
            case .failure(let error):
                let protocolError = error.message.contains("only http and https")
                return .failure(FetchFailure(kind: "refused", message: "fetch refused: \(error.message)",
                                             userMessage: protocolError ? "invalid protocol, only http and https are supported" : "invalid url, Invalid URL"))
            }
            let address: IPAddress
            switch checkedAddress(target, url: url, deadline: deadline, budget: budget) {
            case .success(let checked): address = checked
            case .failure(let failure): return .failure(failure)
            }
            let response: (status: Int, headers: [String: String], body: [UInt8])
            switch exchange(target: target, address: address, url: url, method: method, headers: request.headers, body: body, deadline: deadline) {
            case .success(let exchanged): response = exchanged
            case .failure(let failure): return .failure(failure)
            }
            if [301, 302, 303, 307, 308].contains(response.status), let location = response.headers["location"] {
                guard hop < limits.maximumRedirects else {
                    return .failure(FetchFailure(kind: "network", message: "fetch of \(request.url): more than \(limits.maximumRedirects) redirects",
                                                 userMessage: "maximum redirect reached at: \(url)"))
                }
                url = Self.resolve(location, against: url)
                if response.status == 303 || (response.status != 307 && response.status != 308 && method == "POST") {
                    method = "GET"
                    body = nil
                }
                continue
            }
            return .success(FetchResponse(url: url, status: response.status, headers: response.headers, body: response.body))
        }
        return .failure(FetchFailure(kind: "network", message: "fetch of \(request.url): too many redirects", userMessage: "maximum redirect reached at: \(url)"))
    }

    /// The address to connect to: the literal, or the first answer of the resolver — after every
    /// answer passed the policy.
    private func checkedAddress(_ target: EgressPolicy.Target, url: String, deadline: UInt64, budget: UInt64) -> Result<IPAddress, FetchFailure> {
        if let literal = target.address {
            if case .refused(let reason) = policy.decision(for: literal, target: target) {
                return .failure(FetchFailure(kind: "refused", message: "fetch refused: \(reason)", userMessage: "blocked request to non-public address: \(literal)"))
            }
            return .success(literal)
        }
        let answers: [IPAddress]
        switch lookups.resolve(target.host, deadline: deadline) {
        case .answered(let found): answers = found
        case .timedOut:
            return .failure(FetchFailure(kind: "timeout", message: "fetch: looking up \(target.host) did not finish within \(budget / 1_000_000) ms",
                                         userMessage: "network timeout at: \(url)"))
        case .busy:
            return .failure(FetchFailure(kind: "network", message: "fetch: cannot look up \(target.host): \(TimedLookups.maximumPending) lookups already waiting for the resolver",
                                         userMessage: "request to \(url) failed, reason: unable to resolve IP address for \(target.host)"))
        }
        guard let first = answers.first else {
            return .failure(FetchFailure(kind: "network", message: "fetch: cannot resolve \(target.host)",
                                         userMessage: "request to \(url) failed, reason: unable to resolve IP address for \(target.host)"))
        }
        for answer in answers {
            if case .refused(let reason) = policy.decision(for: answer, target: target) {
                return .failure(FetchFailure(kind: "refused", message: "fetch refused: \(target.host) resolves to \(answer) (\(reason))",
                                             userMessage: "request to \(url) failed, reason: cannot use \(answer) as IP address for \(target.host)"))
            }
        }
        return .success(first)
    }

    /// Every address `host` resolves to (A and AAAA), in the system resolver's order.
    public static func resolve(host: String) -> [IPAddress] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &list) == 0 else { return [] }
        defer { freeaddrinfo(list) }
        var addresses: [IPAddress] = []
        var entry = list
        while let current = entry {
            if let socketAddress = current.pointee.ai_addr {
                if current.pointee.ai_family == AF_INET {
                    socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin_addr
                        let bytes = withUnsafeBytes(of: &raw) { Array($0) }
                        if let address = IPAddress(bytes: bytes), !addresses.contains(address) { addresses.append(address) }
                    }
                } else if current.pointee.ai_family == AF_INET6 {
                    socketAddress.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { pointer in
                        var raw = pointer.pointee.sin6_addr
                        let bytes = withUnsafeBytes(of: &raw) { Array($0) }
                        if let address = IPAddress(bytes: bytes), !addresses.contains(address) { addresses.append(address) }
                    }
                }
            }
            entry = current.pointee.ai_next
        }
        return addresses
    }

    /// `location` made absolute against `base`.
    static func resolve(_ location: String, against base: String) -> String {
        if location.contains("://") { return location }
        guard let schemeEnd = base.range(of: "://") else { return location }
        let scheme = base[..<schemeEnd.lowerBound]
        let afterScheme = base[schemeEnd.upperBound...]
        let authority = afterScheme.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        if location.hasPrefix("//") { return scheme + ":" + location }
        if location.hasPrefix("/") { return scheme + "://" + authority + location }
        let path = afterScheme.dropFirst(authority.count).prefix { $0 != "?" && $0 != "#" }
        let directory = path.lastIndex(of: "/").map { path[...$0] } ?? "/"
        return scheme + "://" + authority + directory + location
    }

    /// The path and query of `url` (what goes on the request line).
    static func requestTarget(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return "/" }
        let afterScheme = url[schemeEnd.upperBound...]
        let rest = afterScheme.drop { $0 != "/" && $0 != "?" && $0 != "#" }
        let withoutFragment = rest.prefix { $0 != "#" }
        if withoutFragment.isEmpty { return "/" }
        return withoutFragment.hasPrefix("?") ? "/" + withoutFragment : String(withoutFragment)
    }

    private func exchange(target: EgressPolicy.Target, address: IPAddress, url: String, method: String, headers: [String: String],
                          body: [UInt8]?, deadline: UInt64) -> Result<(status: Int, headers: [String: String], body: [UInt8]), FetchFailure> {
        let now = monotonicNanoseconds()
        guard now < deadline else { return .failure(Self.timedOut(url, budget: 0)) }
        let remaining = deadline - now
        let socketAddress: SocketAddress
        do {
            socketAddress = try SocketAddress(ipAddress: address.description, port: target.port)
        } catch {
            return .failure(FetchFailure(kind: "network", message: "fetch of \(url): bad address \(address)", userMessage: "request to \(url) failed, reason: bad address \(address)"))
        }
        if target.scheme == "https" && tls == nil {
            return .failure(FetchFailure(kind: "network", message: "fetch of \(url): TLS is not available", userMessage: "request to \(url) failed, reason: TLS is not available"))
        }
        let loop = group.next()
        let promise = loop.makePromise(of: CollectedResponse.self)
        let maximum = limits.maximumResponseBytes
        let tls = target.scheme == "https" ? self.tls : nil
        let serverName: String? = target.address == nil ? target.host : nil
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.nanoseconds(Int64(remaining)))
            .channelInitializer { channel in
                do {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(try NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, maximumBytes: maximum, url: url))
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
        let channel: any Channel
        do {
            channel = try bootstrap.connect(to: socketAddress).wait()
        } catch {
            promise.fail(error)
            if monotonicNanoseconds() >= deadline { return .failure(Self.timedOut(url, budget: remaining)) }
            return .failure(FetchFailure(kind: "network", message: "fetch of \(url): cannot connect to \(target.host):\(target.port): \(error)",
                                         userMessage: "request to \(url) failed, reason: connect ECONNREFUSED \(address):\(target.port)"))
        }
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(deadline - min(deadline, monotonicNanoseconds())))) {
            promise.fail(FetchFailure(kind: "timeout", message: ""))
            channel.close(promise: nil)
        }
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: Self.requestTarget(of: url))
        let defaultPort = target.scheme == "https" ? 443 : 80
        let hostName = target.host.contains(":") && !target.host.hasPrefix("[") ? "[\(target.host)]" : target.host
        head.headers.add(name: "Host", value: target.port == defaultPort ? hostName : "\(hostName):\(target.port)")
        head.headers.add(name: "User-Agent", value: "sluice-fetch")
        head.headers.add(name: "Connection", value: "close")
        for (name, value) in headers where !["host", "connection", "content-length", "transfer-encoding"].contains(name.lowercased()) {
            head.headers.add(name: name, value: value)
        }
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let result: Result<(status: Int, headers: [String: String], body: [UInt8]), FetchFailure>
        do {
            let collected = try promise.futureResult.wait()
            result = .success((collected.status, collected.headers, collected.body))
        } catch let failure as FetchFailure where failure.kind == "timeout" {
            result = .failure(Self.timedOut(url, budget: remaining))
        } catch let failure as FetchFailure {
            result = .failure(failure)
        } catch {
            result = .failure(FetchFailure(kind: "network", message: "fetch of \(url): \(error)", userMessage: "request to \(url) failed, reason: \(error)"))
        }
        timer.cancel()
        channel.close(promise: nil)
        return result
    }

    private static func timedOut(_ url: String, budget: UInt64) -> FetchFailure {
        FetchFailure(kind: "timeout", message: "fetch of \(url) did not finish within \(budget / 1_000_000) ms", userMessage: "network timeout at: \(url)")
    }
}

/// A response as the collector hands it over.
struct CollectedResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
}

/// Collects one HTTP response on its channel, failing past the body cap.
private final class ResponseCollector: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<CollectedResponse>
    private let maximumBytes: Int
    private let url: String
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var done = false

    init(promise: EventLoopPromise<CollectedResponse>, maximumBytes: Int, url: String) {
        self.promise = promise
        self.maximumBytes = maximumBytes
        self.url = url
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let received):
            head = received
        case .body(var buffer):
            guard body.count + buffer.readableBytes <= maximumBytes else {
                finish(.failure(FetchFailure(kind: "too_large", message: "fetch of \(url): the response is larger than \(maximumBytes >> 20) MB", userMessage: "content size at \(url) over limit: \(maximumBytes)")))
                context.close(promise: nil)
                return
            }
            body += buffer.readBytes(length: buffer.readableBytes) ?? []
        case .end:
            guard let head else {
                finish(.failure(FetchFailure(kind: "network", message: "fetch of \(url): no response", userMessage: "request to \(url) failed, reason: no response")))
                return
            }
            var headers: [String: String] = [:]
            for (name, value) in head.headers {
                let key = name.lowercased()
                headers[key] = headers[key].map { $0 + ", " + value } ?? value
            }
            finish(.success(CollectedResponse(status: Int(head.status.code), headers: headers, body: body)))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(FetchFailure(kind: "network", message: "fetch of \(url): \(error)", userMessage: "request to \(url) failed, reason: \(error)")))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(FetchFailure(kind: "network", message: "fetch of \(url): the connection closed before the response ended", userMessage: "request to \(url) failed, reason: socket hang up")))
    }

    private func finish(_ result: Result<CollectedResponse, FetchFailure>) {
        guard !done else { return }
        done = true
        switch result {
        case .success(let response): promise.succeed(response)
        case .failure(let failure): promise.fail(failure)
        }
    }
}

/// Host-name lookups with a deadline. `getaddrinfo` has no timeout of its own (the system
/// resolver's can add up to tens of seconds), so each lookup runs on a thread of its own and the
/// caller stops waiting at its deadline; a lookup left behind finishes on its thread and is
/// dropped. At most ``maximumPending`` lookups wait at once, so a resolver outage cannot pile up
/// threads: past that, a lookup fails at once.
final class TimedLookups: @unchecked Sendable {
    // @unchecked: `pending` is guarded by `lock`.
    static let maximumPending = 64

    enum Outcome { case answered([IPAddress]), timedOut, busy }

    /// One lookup: its answer, once there is one, guarded by `lock`.
    private final class Lookup: @unchecked Sendable {
        let lock = ThreadLock()
        let answered = ThreadCondition()
        var answers: [IPAddress]?
    }

    private let resolver: @Sendable (String) -> [IPAddress]
    private let lock = ThreadLock()
    private var pending = 0

    init(resolver: @escaping @Sendable (String) -> [IPAddress]) {
        self.resolver = resolver
    }

    /// `host`'s addresses, unless `deadline` (CLOCK_MONOTONIC nanoseconds) passes first.
    func resolve(_ host: String, deadline: UInt64) -> Outcome {
        let admitted = lock.withLock {
            guard pending < Self.maximumPending else { return false }
            pending += 1
            return true
        }
        guard admitted else { return .busy }
        let lookup = Lookup()
        startThread { [self, resolver] in
            let answers = resolver(host)
            lookup.lock.withLock {
                lookup.answers = answers
                lookup.answered.signal()
            }
            lock.withLock { pending -= 1 }
        }
        lookup.lock.lock()
        defer { lookup.lock.unlock() }
        while true {
            if let answers = lookup.answers { return .answered(answers) }
            let now = monotonicNanoseconds()
            guard now < deadline else { return .timedOut }
            lookup.answered.wait(lookup.lock, nanoseconds: deadline - now)
        }
    }
}
