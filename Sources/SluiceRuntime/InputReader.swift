import SluiceCore
import SluiceRegistry
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An error opening or reading the input.
public struct InputReaderError: Error, CustomStringConvertible, Sendable {
    /// A human-readable explanation naming the input and the system error text.
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A streaming reader of JSON events: a read(2) loop that feeds ``ItemSplitter`` — the one
/// splitter, which the `/v1` streaming run also uses — and hands out its records.
///
/// Format detection, item boundaries and malformed records are the splitter's (see
/// ``ItemSplitter``): one JSON array or NDJSON; items passed through byte for byte, with the line
/// where they start; a piece that cannot be an item is a malformed record naming its line, and
/// reading goes on after it. Memory stays bounded by the read buffer plus the item being assembled
/// (at most about `maximumItemBytes`), whatever the size of the input.
public final class InputReader {
    /// The default item size cap: 16 MiB.
    public static let defaultMaximumItemBytes = ItemSplitter.defaultMaximumItemBytes
    /// The size of the buffer used with read(2): 1 MiB.
    static let defaultBufferSize = 1 << 20

    /// The descriptor read with read(2), or nil when the whole input is already in `storage`.
    private let descriptor: Int32?
    /// How errors name the input, e.g. `'events.json'` or `standard input`.
    private let sourceName: String
    /// Whether `deinit` closes the descriptor (only when the reader opened it).
    private var ownsDescriptor = false
    private var splitter: ItemSplitter

    /// The read buffer (or, for in-memory input, the whole input).
    private var storage: [UInt8]
    /// The index of the next byte of `storage` the splitter has not consumed.
    private var position = 0
    /// The number of valid bytes in `storage`.
    private var limit = 0
    /// Whether the splitter has seen the end of the input.
    private var ended = false
    /// Records split but not handed out yet, from `pendingIndex` on (at most a few: the splitter
    /// stops once it has what was asked for).
    private var pending: [InputRecord] = []
    private var pendingIndex = 0

    private init(descriptor: Int32?, name: String, storage: [UInt8], maximumItemBytes: Int) {
        self.descriptor = descriptor
        self.sourceName = name
        self.storage = storage
        self.splitter = ItemSplitter(maximumItemBytes: maximumItemBytes)
        if descriptor == nil { limit = storage.count }
    }

    /// Reads from an open file descriptor (not closed by the reader). Uses read(2) with a 1 MiB buffer.
    public convenience init(fileDescriptor: Int32, maximumItemBytes: Int = InputReader.defaultMaximumItemBytes) {
        self.init(fileDescriptor: fileDescriptor, maximumItemBytes: maximumItemBytes,
                  bufferSize: InputReader.defaultBufferSize)
    }

    /// Reads from an open file descriptor with a chosen buffer size (tests use tiny buffers to put
    /// buffer boundaries inside items).
    convenience init(fileDescriptor: Int32, maximumItemBytes: Int = InputReader.defaultMaximumItemBytes,
                     bufferSize: Int, name: String? = nil) {
        precondition(bufferSize > 0, "bufferSize must be positive")
        self.init(descriptor: fileDescriptor, name: name ?? "file descriptor \(fileDescriptor)",
                  storage: [UInt8](repeating: 0, count: bufferSize), maximumItemBytes: maximumItemBytes)
    }

    /// Opens a path; "-" means standard input. Throws an error whose description names the path and errno text.
    public convenience init(path: String, maximumItemBytes: Int = InputReader.defaultMaximumItemBytes) throws {
        if path == "-" {
            self.init(fileDescriptor: STDIN_FILENO, maximumItemBytes: maximumItemBytes,
                      bufferSize: InputReader.defaultBufferSize, name: "standard input")
            return
        }
        let descriptor: Int32
        do throws(SystemError) {
            descriptor = try SystemError.retryingOnInterrupt("open") { open(path, O_RDONLY | O_CLOEXEC) }
        } catch {
            throw InputReaderError("cannot open '\(path)': \(error.reason)")
        }
        self.init(fileDescriptor: descriptor, maximumItemBytes: maximumItemBytes,
                  bufferSize: InputReader.defaultBufferSize, name: "'\(path)'")
        ownsDescriptor = true
    }

    /// Reads from an in-memory buffer (tests, HTTP bodies).
    public convenience init(bytes: [UInt8], maximumItemBytes: Int = InputReader.defaultMaximumItemBytes) {
        self.init(descriptor: nil, name: "the input", storage: bytes, maximumItemBytes: maximumItemBytes)
    }

    deinit {
        if ownsDescriptor, let descriptor {
            close(descriptor)
        }
    }

    // MARK: Public interface

    /// The next record, or nil at the end. Throws only on read(2) errors.
    public func next() throws -> InputRecord? {
        try split(atLeast: 1)
        guard pendingIndex < pending.count else { return nil }
        let record = pending[pendingIndex]
        pendingIndex += 1
        return record
    }

    /// Up to `count` records (fewer at the end; empty at the end).
    public func next(upTo count: Int) throws -> [InputRecord] {
        guard count > 0 else { return [] }
        try split(atLeast: count)
        let taken = min(count, pending.count - pendingIndex)
        if pendingIndex == 0 && taken == pending.count {
            defer { pending = [] }
            return pending
        }
        defer { pendingIndex += taken }
        return Array(pending[pendingIndex ..< pendingIndex + taken])
    }

    // MARK: Reading

    /// Feeds the splitter until `count` records are pending or the input ends.
    private func split(atLeast count: Int) throws {
        if pendingIndex == pending.count {
            pending.removeAll(keepingCapacity: true)
            pendingIndex = 0
        }
        while pending.count - pendingIndex < count && !ended {
            if position == limit {
                // Once the splitter is finished, the rest of the input is not read.
                let moreInput = try !splitter.isFinished && refill()
                if !moreInput {
                    splitter.end(into: &pending)
                    ended = true
                }
                continue
            }
            let wanted = pendingIndex + count
            let start = position
            let consumed = storage.withUnsafeBufferPointer { buffer in
                splitter.split(UnsafeBufferPointer(rebasing: buffer[start ..< limit]), into: &pending, upTo: wanted)
            }
            position += consumed
        }
    }

    /// Replaces the buffer's contents with the next chunk of input. Returns false at the end of input.
    private func refill() throws -> Bool {
        guard let descriptor else { return false }
        let name = sourceName
        let count = try storage.withUnsafeMutableBytes { buffer in
            do throws(SystemError) {
                return try SystemError.retryingOnInterrupt("read") { read(descriptor, buffer.baseAddress, buffer.count) }
            } catch {
                throw InputReaderError("cannot read \(name): \(error.reason)")
            }
        }
        position = 0
        limit = count
        return count > 0
    }
}
