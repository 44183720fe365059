#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// Appends values in the worker protocol's binary form: little-endian integers, length-prefixed
/// byte strings. No field names, no JSON: events cross the process boundary as the bytes they are.
public struct WireWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    public mutating func byte(_ value: UInt8) { bytes.append(value) }

    public mutating func bool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    public mutating func int(_ value: Int) {
        var little = UInt64(bitPattern: Int64(value)).littleEndian
        withUnsafeBytes(of: &little) { bytes.append(contentsOf: $0) }
    }

    public mutating func data(_ value: some Collection<UInt8>) {
        int(value.count)
        bytes.append(contentsOf: value)
    }

    public mutating func string(_ value: String) { data(value.utf8) }

    /// A string map, keys sorted (so equal maps encode equally).
    public mutating func map(_ value: [String: String]) {
        int(value.count)
        for (key, entry) in value.sorted(by: { $0.key < $1.key }) {
            string(key)
            string(entry)
        }
    }

    public mutating func optionalString(_ value: String?) {
        bool(value != nil)
        if let value { string(value) }
    }
}

/// Reads what ``WireWriter`` wrote; every read checks its bounds and throws on a short or
/// malformed frame (a frame from a misbehaving worker never crashes the server).
public struct WireReader {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isAtEnd: Bool { position == bytes.count }

    public mutating func byte() throws(ProtocolError) -> UInt8 {
        guard position < bytes.count else { throw ProtocolError("frame ends early") }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func bool() throws(ProtocolError) -> Bool { try byte() != 0 }

    public mutating func int() throws(ProtocolError) -> Int {
        guard bytes.count - position >= 8 else { throw ProtocolError("frame ends early") }
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(bytes[position + shift]) << (8 * UInt64(shift)) }
        position += 8
        return Int(Int64(bitPattern: value))
    }

    public mutating func data() throws(ProtocolError) -> [UInt8] {
        let count = try int()
        guard count >= 0, bytes.count - position >= count else { throw ProtocolError("frame ends early") }
        defer { position += count }
        return Array(bytes[position..<position + count])
    }

    /// A count of elements that follow, each at least `minimumSize` bytes: checked against what
    /// is left of the frame, so a corrupt count cannot make the reader reserve huge arrays.
    public mutating func count(minimumSize: Int) throws(ProtocolError) -> Int {
        let count = try int()
        guard count >= 0, count <= (bytes.count - position) / max(1, minimumSize) else {
            throw ProtocolError("a count of \(count) does not fit the frame")
        }
        return count
    }

    public mutating func string() throws(ProtocolError) -> String { String(decoding: try data(), as: UTF8.self) }

    public mutating func map() throws(ProtocolError) -> [String: String] {
        var map: [String: String] = [:]
        for _ in 0..<(try count(minimumSize: 16)) { map[try string()] = try string() }
        return map
    }

    public mutating func optionalString() throws(ProtocolError) -> String? { try bool() ? try string() : nil }
}

/// A malformed frame, or a peer that broke the protocol.
public struct ProtocolError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// One end of a worker connection (a Unix stream socket): frames of
/// `[UInt32 little-endian length][type byte][payload]`.
///
/// The server's end is non-blocking and every operation has a deadline, so a worker that stops
/// reading or answering never holds a server thread past it. The worker's end blocks.
public final class FrameChannel: @unchecked Sendable {
    // @unchecked: one user at a time (the pool checks a worker out to one thread; the worker's
    // own writes are serialised by `writeLock`).
    public let descriptor: Int32
    private let writeLock = ThreadLock()
    /// Largest frame accepted (256 MiB): a length past it means a corrupt stream.
    public static let maximumFrame = 256 << 20

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// How a read or write ended when it did not complete.
    public enum Failure: Error, Sendable, CustomStringConvertible {
        /// The peer closed the connection (it exited or crashed).
        case closed
        /// Nothing (or not all of it) arrived before the deadline.
        case timedOut
        case system(String)

        public var description: String {
            switch self {
            case .closed: "connection closed"
            case .timedOut: "timed out"
            case .system(let message): message
            }
        }
    }

    /// Sends one frame. `deadline` (CLOCK_MONOTONIC nanoseconds) bounds the wait for the peer to
    /// read; nil waits as long as needed (the worker's side). The header and the payload go out
    /// in one `sendmsg` from where they are (no copy into a frame buffer).
    public func send(type: UInt8, payload: [UInt8], deadline: UInt64? = nil) throws(Failure) {
        var header: (UInt32, UInt8) = (UInt32(payload.count + 1).littleEndian, type)
        writeLock.lock()
        defer { writeLock.unlock() }
        let headerSize = 5
        let total = headerSize + payload.count
        var sent = 0
        while sent < total {
            let count = withUnsafeMutableBytes(of: &header) { headerBytes in
                payload.withUnsafeBytes { payloadBytes -> Int in
                    var vectors = [iovec]()
                    if sent < headerSize {
                        vectors.append(iovec(iov_base: headerBytes.baseAddress! + sent, iov_len: headerSize - sent))
                    }
                    let payloadSent = max(0, sent - headerSize)
                    if payloadBytes.count > payloadSent {
                        vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: payloadBytes.baseAddress! + payloadSent),
                                             iov_len: payloadBytes.count - payloadSent))
                    }
                    return vectors.withUnsafeMutableBufferPointer { buffer in
                        var message = msghdr()
                        message.msg_iov = buffer.baseAddress
                        message.msg_iovlen = buffer.count
                        return Glibc.sendmsg(descriptor, &message, Int32(MSG_NOSIGNAL))
                    }
                }
            }
            if count > 0 {
                sent += count
                continue
            }
            if count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) {
                try wait(for: Int16(POLLOUT), deadline: deadline)
                continue
            }
            if count < 0 && errno == EINTR { continue }
            if count < 0 && (errno == EPIPE || errno == ECONNRESET) { throw .closed }
            throw .system(SystemError("send").description)
        }
    }

    /// Receives one frame: its type and payload (read straight into the payload's own array).
    public func receive(deadline: UInt64? = nil) throws(Failure) -> (type: UInt8, payload: [UInt8]) {
        var header = (UInt32(0), UInt8(0))
        try withUnsafeMutableBytes(of: &header) { (bytes: UnsafeMutableRawBufferPointer) throws(Failure) in
            try read(into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<5]), deadline: deadline)
        }
        let length = Int(UInt32(littleEndian: header.0))
        guard length >= 1, length <= Self.maximumFrame else { throw .system("frame of \(length) bytes") }
        var failure: Failure?
        let payload = [UInt8](unsafeUninitializedCapacity: length - 1) { buffer, initialized in
            do throws(Failure) {
                try read(into: UnsafeMutableRawBufferPointer(buffer), deadline: deadline)
                initialized = length - 1
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        return (header.1, payload)
    }

    private func read(into buffer: UnsafeMutableRawBufferPointer, deadline: UInt64?) throws(Failure) {
        var received = 0
        while received < buffer.count {
            let count = Glibc.recv(descriptor, buffer.baseAddress! + received, buffer.count - received, 0)
            if count > 0 {
                received += count
                continue
            }
            if count == 0 { throw .closed }
            if errno == EAGAIN || errno == EWOULDBLOCK {
                try wait(for: Int16(POLLIN), deadline: deadline)
                continue
            }
            if errno == EINTR { continue }
            if errno == ECONNRESET { throw .closed }
            throw .system(SystemError("recv").description)
        }
    }

    private func wait(for events: Int16, deadline: UInt64?) throws(Failure) {
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let now = monotonicNanoseconds()
                guard now < deadline else { throw .timedOut }
                timeout = Int32(min((deadline - now) / 1_000_000 + 1, UInt64(Int32.max)))
            }
            var poller = pollfd(fd: descriptor, events: events, revents: 0)
            let ready = poll(&poller, 1, timeout)
            if ready > 0 { return }
            if ready < 0 && errno != EINTR { throw .system(SystemError("poll").description) }
        }
    }

    /// Whether the peer has closed its end (a readable socket with nothing to read).
    public var peerClosed: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 0) > 0 else { return false }
        if poller.revents & Int16(POLLHUP) != 0 { return true }
        var byte: UInt8 = 0
        return recv(descriptor, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    private var closed = false

    /// Closes the descriptor (once; later calls do nothing).
    public func close() {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard !closed else { return }
        closed = true
        _ = Glibc.close(descriptor)
    }
}
