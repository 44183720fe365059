#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore

/// A tiny HTTP/1.1 server on a loopback port for tests: plain sockets, one thread per
/// connection, `Connection: close`. It deliberately uses no Swift concurrency, so a test that
/// blocks a cooperative thread while waiting for it can never starve it (with two cores the
/// cooperative pool has two threads, and parallel tests block them).
public final class LoopbackHTTPServer: @unchecked Sendable {
    /// One parsed request.
    public struct Request: Sendable {
        public let method: String
        /// The request target as sent: path and query.
        public let target: String
        /// Header names lowercased.
        public let headers: [String: String]
        public let body: [UInt8]
        public var path: String { target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target }
    }

    /// The connection a responder answers on.
    public struct Connection {
        let fd: Int32

        /// A complete response with a Content-Length.
        public func respond(_ status: String, _ headers: [String] = [], _ body: [UInt8] = []) {
            let head = (["HTTP/1.1 \(status)", "Content-Length: \(body.count)", "Connection: close"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
            _ = send(Array(head.utf8) + body)
        }

        /// Raw bytes; false once the peer has gone.
        @discardableResult
        public func send(_ bytes: [UInt8]) -> Bool {
            var sent = 0
            while sent < bytes.count {
                let count = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + sent, bytes.count - sent, Int32(MSG_NOSIGNAL)) }
                if count <= 0 { return false }
                sent += count
            }
            return true
        }
    }

    public let port: Int
    private let listener: Int32
    private let responder: @Sendable (Request, Connection) -> Void

    public init(responder: @escaping @Sendable (Request, Connection) -> Void) {
        self.responder = responder
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
        startThread { [self] in
            while true {
                let connection = accept(listener, nil, nil)
                if connection < 0 { close(listener); return }
                startThread { [self] in serve(connection) }
            }
        }
    }

    /// Stops accepting; connections being served finish.
    public func stop() { shutdown(listener, Int32(SHUT_RDWR)) }

    public var url: String { "http://127.0.0.1:\(port)" }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var headerEnd: Int?
        while headerEnd == nil {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { return }
            received += buffer[0..<count]
            headerEnd = Self.find([13, 10, 13, 10], in: received)
        }
        let lines = String(decoding: received[0..<headerEnd!], as: UTF8.self).split(separator: "\r\n")
        let requestLine = lines[0].split(separator: " ")
        guard requestLine.count >= 2 else { return }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        var body = Array(received[(headerEnd! + 4)...])
        while body.count < length {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count <= 0 { break }
            body += buffer[0..<count]
        }
        responder(Request(method: String(requestLine[0]), target: String(requestLine[1]), headers: headers, body: body), Connection(fd: fd))
    }

    private static func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where Array(haystack[start..<start + needle.count]) == needle { return start }
        return nil
    }
}
