#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceRegistry

/// Buffered writes to a file descriptor (standard output by default), flushed at 1 MiB — or,
/// made with ``inMemory()``, collected in ``collected``.
public final class OutputWriter {
    private let descriptor: Int32
    /// Everything written, for an in-memory writer.
    public private(set) var collected: [UInt8] = []
    private var keepsInMemory = false
    private var buffer: [UInt8] = []
    private let capacity: Int
    /// Bytes written so far (flushed or not).
    public private(set) var bytesWritten = 0

    public init(fileDescriptor: Int32 = 1, capacity: Int = 1 << 20) {
        descriptor = fileDescriptor
        self.capacity = capacity
        buffer.reserveCapacity(capacity + 4096)
    }

    /// A writer that keeps what is written in ``collected`` (tests, the snapshot harness).
    public static func inMemory() -> OutputWriter {
        let writer = OutputWriter(fileDescriptor: -1, capacity: 1 << 16)
        writer.keepsInMemory = true
        return writer
    }

    deinit { try? flush() }

    public func write<Bytes: Sequence>(_ bytes: Bytes) throws where Bytes.Element == UInt8 {
        let before = buffer.count
        buffer.append(contentsOf: bytes)
        bytesWritten += buffer.count - before
        if buffer.count >= capacity { try flush() }
    }

    public func write(_ text: String) throws {
        try write(text.utf8)
    }

    public func flush() throws {
        if keepsInMemory {
            collected += buffer
            buffer.removeAll(keepingCapacity: true)
            return
        }
        var offset = 0
        while offset < buffer.count {
            do throws(SystemError) {
                offset += try SystemError.retryingOnInterrupt("write") {
                    buffer.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
                }
            } catch {
                buffer.removeAll(keepingCapacity: true)
                throw FileSystem.Error(path: "output", reason: error.reason)
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
