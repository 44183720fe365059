import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// A certificate authority made for these tests only (P-256, valid to 2126) and a server
/// certificate it signed for `localhost` (no IP address in it). The key is a test fixture: it
/// protects nothing.
enum TestCertificates {
    static let authority = """
-----BEGIN CERTIFICATE-----
MIIBmjCCAT+gAwIBAgIUdpWf4xHC+YfshrNS/Am3LljTYoUwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOU2x1aWNlIFRlc3QgQ0EwIBcNMjYxMTIyMDAzNTUxWhgPMjEy
NjEwMjkwMDM1NTFaMBkxFzAVBgNVBAMMDlNsdWljZSBUZXN0IENBMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEE2MZ+f5HR99hClmmkw+zkcCOG1PEOG1stvrvmQkT
nnP7SmKjl0vFt6aoHGugj5aP1Nmz/Vna1WwzoIC6+rBotqNjMGEwHQYDVR0OBBYE
FIwNs2Dtphl3U5r8LTku0gLa56l2MB8GA1UdIwQYMBaAFIwNs2Dtphl3U5r8LTku
0gLa56l2MA8GA1UdEwEB/wQFMAMBAf8wDgYDVR0PAQH/BAQDAgEGMAoGCCqGSM49
BAMCA0kAMEYCIQDeqPy60QEH6/Q5vFBOQOGcJUdNgytipn+Oj4hYmUO1nAIhAPxZ
+u/qXeNpnDoyXa1+HxMENhEUrZgs2yvy5h58dTOI
-----END CERTIFICATE-----
"""
    static let localhost = """
-----BEGIN CERTIFICATE-----
MIIBqDCCAU+gAwIBAgIUdU4lLFDxs0EYH+eJXaYBAspPTLgwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOU2x1aWNlIFRlc3QgQ0EwIBcNMjYxMTIyMDAzNTUyWhgPMjEy
NjEwMjkwMDM1NTJaMBQxEjAQBgNVBAMMCWxvY2FsaG9zdDBZMBMGByqGSM49AgEG
CCqGSM49AwEHA0IABKYpmWu88UgKvSv+iE2QPDLigYUl+1hSYKJaogWE6uzWDAVl
2N2+wdcEn0I56HUNhkOtH6O16I2SGxFw+JcFK42jeDB2MBQGA1UdEQQNMAuCCWxv
Y2FsaG9zdDAJBgNVHRMEAjAAMBMGA1UdJQQMMAoGCCsGAQUFBwMBMB0GA1UdDgQW
BBQIDezeoEc/QVVXeblE8r/ly6M46DAfBgNVHSMEGDAWgBSMDbNg7aYZd1Oa/C05
LtIC2uepdjAKBggqhkjOPQQDAgNHADBEAiAYOOZ+1HUyJxz7zAropov8HNsgqF1u
eYoZ5ZuASJVSngIgDoN0FOK/ukhniTX9bjbLkM6NJJpuOFu7dTSO/Zhyn14=
-----END CERTIFICATE-----
"""
    static let localhostKey = """
-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg7G2110CUepqoPicM
CUInOZYqkYQm+B7RlXhz5Aajf6ehRANCAASmKZlrvPFICr0r/ohNkDwy4oGFJftY
UmCiWqIFhOrs1gwFZdjdvsHXBJ9COeh1DYZDrR+jteiNkhsRcPiXBSuN
-----END PRIVATE KEY-----
"""
}

/// An HTTPS server on a loopback port presenting the `localhost` certificate; every request gets
/// `{"tls":true}`.
final class LoopbackHTTPSServer: Sendable {
    let port: Int
    private let channel: any Channel

    init() throws {
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(TestCertificates.localhost.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(TestCertificates.localhostKey.utf8), format: .pem)))
        configuration.minimumTLSVersion = .tlsv12
        let context = try NIOSSLContext(configuration: configuration)
        channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                do {
                    try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: context))
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Answer())
                    return channel.eventLoop.makeSucceededVoidFuture()
                } catch {
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
            .bind(host: "127.0.0.1", port: 0).wait()
        port = channel.localAddress?.port ?? 0
    }

    private final class Answer: ChannelInboundHandler, Sendable {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            let body = ByteBuffer(string: #"{"tls":true}"#)
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Type", value: "application/json")
            head.headers.add(name: "Content-Length", value: String(body.readableBytes))
            head.headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
        }
    }
}
