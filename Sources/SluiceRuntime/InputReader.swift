import SluiceCore
import SluiceRegistry
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One item from the input: its raw JSON bytes and the 1-based line where it starts.
public struct InputItem: Sendable, Equatable {
    /// The item's bytes exactly as they appear in the input (not validated).
    public var json: JSONText
    /// The 1-based physical line of the item's first byte.
    public var line: Int

    public init(json: JSONText, line: Int) {
        self.json = json
        self.line = line
    }
}

/// One record produced by `InputReader`.
public enum InputRecord: Sendable, Equatable {
    /// An item to transform.
    case item(InputItem)
    /// A piece of the input that cannot be an item: the line where it starts and a message such as
    /// "line 7: item is larger than the 16 MB item cap" or "line 3: unterminated JSON array".
    case malformed(line: Int, message: String)
}

/// An error opening or reading the input.
public struct InputReaderError: Error, CustomStringConvertible, Sendable {
    /// A human-readable explanation naming the input and the system error text.
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

/// A streaming reader that splits an input stream of JSON events into items without parsing them.
///
/// Format detection: leading whitespace (and a UTF-8 byte-order mark at the very start) is skipped;
/// if the first remaining byte is `[` the input is one JSON array whose elements are the items,
/// otherwise it is NDJSON (one item per non-blank line).
///
/// Items are passed through byte-for-byte; validating them is left to the caller. Memory stays
/// bounded by the read buffer plus the item being assembled (at most about `maximumItemBytes`),
/// whatever the size of the input.
public final class InputReader {
    /// The default item size cap: 16 MiB.
    public static let defaultMaximumItemBytes = 16 << 20
    /// The size of the buffer used with read(2): 1 MiB.
    static let defaultBufferSize = 1 << 20

    /// Where the bytes come from.
    private enum Source {
        /// An open file descriptor read with read(2).
        case descriptor(Int32)
        /// The whole input is already in `storage`.
        case memory
    }

    /// What the reader is doing.
    private enum Phase {
        /// Skipping the byte-order mark and leading whitespace to find out the format.
        case detecting
        /// Splitting lines.
        case ndjson
        /// Splitting the elements of the top-level array.
        case array
        /// Checking that only whitespace follows the closing `]`.
        case afterArray
        /// Nothing more to report.
        case finished
    }

    /// How the NDJSON splitter treats the line it is in.
    private enum LineMode {
        /// Accumulating the line.
        case normal
        /// The line is over the cap and has been reported: discard up to the next newline.
        case skipping
        /// The line is over the cap but blank so far: discard it, and report it only if a
        /// non-blank byte turns up before the next newline.
        case blankOverflow
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private let source: Source
    /// How errors name the input, e.g. `'events.json'` or `standard input`.
    private let sourceName: String
    /// Whether `deinit` closes the descriptor (only when the reader opened it).
    private var ownsDescriptor = false
    private let maximumItemBytes: Int

    // MARK: Buffer

    /// The read buffer (or, for in-memory input, the whole input).
    private var storage: [UInt8]
    /// The index of the next unscanned byte in `storage`.
    private var position = 0
    /// The number of valid bytes in `storage`.
    private var limit = 0
    /// Whether the source has no more bytes to give.
    private var reachedEnd = false

    // MARK: Shared state

    private var phase = Phase.detecting
    /// The 1-based line of the byte at `position`.
    private var line = 1
    /// Bytes of the current item (or line) carried over from earlier buffers.
    private var current: [UInt8] = []

    // MARK: Detection state

    /// How many bytes of the byte-order mark have matched (-1 once the check is over).
    private var byteOrderMarkMatched = 0

    // MARK: NDJSON state

    private var lineMode = LineMode.normal

    // MARK: Array state

    /// Bracket and brace nesting inside the current element (0 = directly in the top-level array).
    private var depth = 0
    private var inString = false
    /// Whether the previous byte inside a string was an unconsumed backslash.
    private var escaped = false
    /// Whether the current element's first byte has been seen.
    private var elementActive = false
    /// Whether the current element has been reported as malformed and is being discarded up to the
    /// next top-level `,` or `]`.
    private var skippingElement = false
    /// The line of the current element's first byte.
    private var elementLine = 0
    /// The index in `storage` where the current element's bytes in this buffer begin
    /// (0 when the element started in an earlier buffer).
    private var elementStart = 0
    /// The element-relative offset of `elementStart`: how many element bytes earlier buffers held.
    private var elementBase = 0
    /// The element-relative offset just past the last non-whitespace byte seen in earlier buffers.
    private var contentEnd = 0
    /// Whether a top-level comma has been seen (so an empty slot before `]` is a trailing comma).
    private var sawSeparator = false
    /// The line of the last top-level `[` or `,`, where an empty element is reported.
    private var separatorLine = 1

    // MARK: Initialisers

    private init(source: Source, name: String, storage: [UInt8], maximumItemBytes: Int) {
        precondition(maximumItemBytes > 0, "maximumItemBytes must be positive")
        self.source = source
        self.sourceName = name
        self.storage = storage
        self.maximumItemBytes = maximumItemBytes
        if case .memory = source {
            limit = storage.count
            reachedEnd = true
        }
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
        self.init(source: .descriptor(fileDescriptor), name: name ?? "file descriptor \(fileDescriptor)",
                  storage: [UInt8](repeating: 0, count: bufferSize), maximumItemBytes: maximumItemBytes)
    }

    /// Opens a path; "-" means standard input. Throws an error whose description names the path and errno text.
    public convenience init(path: String, maximumItemBytes: Int = InputReader.defaultMaximumItemBytes) throws {
        if path == "-" {
            self.init(fileDescriptor: STDIN_FILENO, maximumItemBytes: maximumItemBytes,
                      bufferSize: InputReader.defaultBufferSize, name: "standard input")
            return
        }
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else {
            throw InputReaderError("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        self.init(fileDescriptor: descriptor, maximumItemBytes: maximumItemBytes,
                  bufferSize: InputReader.defaultBufferSize, name: "'\(path)'")
        ownsDescriptor = true
    }

    /// Reads from an in-memory buffer (tests, HTTP bodies).
    public convenience init(bytes: [UInt8], maximumItemBytes: Int = InputReader.defaultMaximumItemBytes) {
        self.init(source: .memory, name: "the input", storage: bytes, maximumItemBytes: maximumItemBytes)
    }

    deinit {
        if ownsDescriptor, case .descriptor(let descriptor) = source {
            close(descriptor)
        }
    }

    // MARK: Public interface

    /// The next record, or nil at the end. Throws only on read(2) errors.
    public func next() throws -> InputRecord? {
        while true {
            let record: InputRecord?
            switch phase {
            case .detecting: record = try detectFormat()
            case .ndjson: record = try nextLine()
            case .array: record = try nextElement()
            case .afterArray: record = try checkAfterArray()
            case .finished: return nil
            }
            if let record { return record }
        }
    }

    /// Up to `count` records (fewer at the end; empty at the end).
    public func next(upTo count: Int) throws -> [InputRecord] {
        var records: [InputRecord] = []
        records.reserveCapacity(min(max(count, 0), 4096))
        while records.count < count, let record = try next() {
            records.append(record)
        }
        return records
    }

    // MARK: Buffer management

    /// Replaces the buffer's contents with the next chunk of input. Returns false at the end of input.
    ///
    /// Callers must first copy any bytes of the buffer they still need into `current`.
    private func refill() throws -> Bool {
        guard case .descriptor(let descriptor) = source, !reachedEnd else {
            reachedEnd = true
            return false
        }
        let name = sourceName
        let count = try storage.withUnsafeMutableBytes { buffer -> Int in
            while true {
                let count = read(descriptor, buffer.baseAddress, buffer.count)
                if count >= 0 { return count }
                let code = errno
                if code == EINTR { continue }
                throw InputReaderError("cannot read \(name): \(String(cString: strerror(code)))")
            }
        }
        position = 0
        limit = count
        if count == 0 {
            reachedEnd = true
            return false
        }
        return true
    }

    /// Runs `body` on the base address of the buffer. Only call when `position < limit`.
    @inline(__always)
    private func withBuffer<Result>(_ body: (UnsafePointer<UInt8>) -> Result) -> Result {
        storage.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    // MARK: Format detection

    /// Skips the byte-order mark and leading whitespace, then picks the format. Returns no record.
    private func detectFormat() throws -> InputRecord? {
        while byteOrderMarkMatched >= 0 {
            if byteOrderMarkMatched == Self.byteOrderMark.count {
                byteOrderMarkMatched = -1
                break
            }
            if position == limit {
                if try refill() { continue }
                // The input ended inside (or right after the start of) a byte-order mark.
                current = Array(Self.byteOrderMark[0 ..< byteOrderMarkMatched])
                phase = current.isEmpty ? .finished : .ndjson
                return nil
            }
            if storage[position] == Self.byteOrderMark[byteOrderMarkMatched] {
                byteOrderMarkMatched += 1
                position += 1
            } else if byteOrderMarkMatched == 0 {
                byteOrderMarkMatched = -1
            } else {
                // A partial mark is ordinary content: it starts the first NDJSON line.
                current = Array(Self.byteOrderMark[0 ..< byteOrderMarkMatched])
                byteOrderMarkMatched = -1
                phase = .ndjson
                return nil
            }
        }
        while phase == .detecting {
            if position == limit {
                if try refill() { continue }
                current = []
                phase = .finished
                return nil
            }
            withBuffer { skipLeadingWhitespace($0) }
        }
        return nil
    }

    /// Scans whitespace in the buffer, counting lines. On the first other byte, switches to array mode
    /// (consuming the `[`) or to NDJSON mode (rewinding to the start of that byte's line, whose
    /// leading whitespace belongs to the first item). Whitespace of the current line that leaves the
    /// buffer is kept in `current`.
    private func skipLeadingWhitespace(_ p: UnsafePointer<UInt8>) {
        var index = position
        var lineStart = position
        while index < limit {
            switch p[index] {
            case .newline:
                line += 1
                index += 1
                lineStart = index
                current.removeAll(keepingCapacity: true)
                lineMode = .normal
            case .space, .tab, .carriageReturn:
                index += 1
            case .openBracket:
                position = index + 1
                current = []
                lineMode = .normal
                separatorLine = line
                phase = .array
                return
            default:
                position = lineStart
                phase = .ndjson
                return
            }
        }
        if lineMode == .normal {
            let count = limit - lineStart
            if current.count + count > maximumItemBytes + 1 {
                current = []
                lineMode = .blankOverflow
            } else {
                current.append(contentsOf: UnsafeBufferPointer(start: p + lineStart, count: count))
            }
        }
        position = limit
    }

    // MARK: NDJSON

    /// The next NDJSON record, or nil after switching to `.finished`.
    private func nextLine() throws -> InputRecord? {
        while true {
            if position == limit {
                if try refill() { continue }
                phase = .finished
                guard lineMode == .normal, !current.isEmpty else { return nil }
                // The last line has no trailing newline.
                return finishLongLine(UnsafeBufferPointer(start: nil, count: 0), line: line)
            }
            if let record = withBuffer({ scanLine($0) }) { return record }
        }
    }

    /// Scans from `position` to the next newline or the end of the buffer. Returns a record when one is
    /// complete, nil to keep scanning.
    private func scanLine(_ p: UnsafePointer<UInt8>) -> InputRecord? {
        let start = position
        let available = limit - start
        let end: Int
        if let found = memchr(p + start, Int32(UInt8.newline), available) {
            end = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - p
        } else {
            end = limit
        }
        let lineComplete = end < limit
        let lineNumber = line
        let bytes = UnsafeBufferPointer(start: p + start, count: end - start)
        if lineComplete {
            position = end + 1
            line += 1
        } else {
            position = limit
        }

        switch lineMode {
        case .skipping:
            if lineComplete { lineMode = .normal }
            return nil

        case .blankOverflow:
            if !Self.isBlank(bytes) {
                lineMode = lineComplete ? .normal : .skipping
                return oversized(line: lineNumber)
            }
            if lineComplete { lineMode = .normal }
            return nil

        case .normal:
            if lineComplete {
                if current.isEmpty {
                    return lineRecord(bytes, line: lineNumber)
                }
                return finishLongLine(bytes, line: lineNumber)
            }
            // The line continues in the next buffer: keep its bytes unless it is already over the cap.
            // (The content may lose one trailing '\r', hence the + 1.)
            if current.count + bytes.count > maximumItemBytes + 1 {
                let blank = Self.isBlank(current) && Self.isBlank(bytes)
                current = []
                if blank {
                    lineMode = .blankOverflow
                    return nil
                }
                lineMode = .skipping
                return oversized(line: lineNumber)
            }
            current.append(contentsOf: bytes)
            return nil
        }
    }

    /// Completes a line whose first bytes are in `current` with its last bytes `tail`.
    private func finishLongLine(_ tail: UnsafeBufferPointer<UInt8>, line lineNumber: Int) -> InputRecord? {
        if current.count + tail.count > maximumItemBytes + 1 {
            let blank = Self.isBlank(current) && Self.isBlank(tail)
            current = []
            return blank ? nil : oversized(line: lineNumber)
        }
        current.append(contentsOf: tail)
        var json = current
        current = []
        switch json.withUnsafeBufferPointer({ classifyLine($0) }) {
        case .blank:
            return nil
        case .oversized:
            return oversized(line: lineNumber)
        case .content(let count):
            json.removeLast(json.count - count)
            return .item(InputItem(json: json, line: lineNumber))
        }
    }

    /// The record for one complete line (without its '\n') held in the buffer.
    private func lineRecord(_ bytes: UnsafeBufferPointer<UInt8>, line lineNumber: Int) -> InputRecord? {
        switch classifyLine(bytes) {
        case .blank:
            return nil
        case .oversized:
            return oversized(line: lineNumber)
        case .content(let count):
            let json = JSONText(UnsafeBufferPointer(rebasing: bytes[0 ..< count]))
            return .item(InputItem(json: json, line: lineNumber))
        }
    }

    /// What a complete line (without its '\n') is.
    private enum LineKind {
        /// Only spaces, tabs and carriage returns: skipped.
        case blank
        /// Longer than the cap once a trailing '\r' is removed.
        case oversized
        /// An item made of the line's first `count` bytes (a trailing '\r' removed).
        case content(count: Int)
    }

    /// Classifies a complete line (without its '\n'), which must not be empty unless blank.
    private func classifyLine(_ bytes: UnsafeBufferPointer<UInt8>) -> LineKind {
        if Self.isBlank(bytes) { return .blank }
        var count = bytes.count
        if bytes[count - 1] == .carriageReturn { count -= 1 }
        return count > maximumItemBytes ? .oversized : .content(count: count)
    }

    /// Whether `bytes` holds only spaces, tabs and carriage returns.
    private static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte != .space && byte != .tab && byte != .carriageReturn {
            return false
        }
        return true
    }

    private static func isBlank(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { isBlank($0) }
    }

    // MARK: JSON array

    /// The next record from the top-level array, or nil after the phase changes.
    private func nextElement() throws -> InputRecord? {
        while phase == .array {
            if position == limit {
                if let record = carryElementOver() { return record }
                if try refill() { continue }
                phase = .finished
                current = []
                let at = elementActive ? elementLine : separatorLine
                return .malformed(line: at, message: "line \(at): unterminated JSON array (missing ']')")
            }
            if let record = withBuffer({ scanArray($0) }) { return record }
        }
        return nil
    }

    /// At the end of a buffer, moves the unfinished element's bytes into `current`, or reports the
    /// element as over the cap (and starts skipping it) if it already is.
    private func carryElementOver() -> InputRecord? {
        guard elementActive, !skippingElement else { return nil }
        let bufferBytes = limit - elementStart
        if inString {
            // Everything up to the closing quote counts as content.
            contentEnd = elementBase + bufferBytes
        }
        if contentEnd > maximumItemBytes {
            skippingElement = true
            current = []
            return oversized(line: elementLine)
        }
        // Once trailing whitespace has been dropped (current.count < elementBase), any further
        // content would put the element over the cap, so there is nothing more worth keeping.
        if current.count == elementBase {
            storage.withUnsafeBufferPointer {
                current.append(contentsOf: UnsafeBufferPointer(rebasing: $0[elementStart ..< limit]))
            }
            if current.count > maximumItemBytes {
                // What follows the content is whitespace: drop it to keep memory bounded.
                current.removeLast(current.count - contentEnd)
            }
        }
        elementBase += bufferBytes
        elementStart = 0
        return nil
    }

    /// Scans the array from `position`. Returns a record when one is ready, nil when the buffer is
    /// exhausted or the closing `]` was reached without a record.
    private func scanArray(_ p: UnsafePointer<UInt8>) -> InputRecord? {
        // Hot state lives in locals for speed and is written back on exit.
        var index = position
        let end = limit
        var depth = self.depth
        var inString = self.inString
        var escaped = self.escaped
        var line = self.line
        var active = elementActive
        /// One past the index of the last non-whitespace element byte in this buffer, or -1.
        var lastContent = -1
        var result: InputRecord?

        scan: while index < end {
            var byte = p[index]
            if inString {
                if !escaped {
                    // Fast path: skip ordinary string bytes.
                    while byte != .quote && byte != .backslash && byte != .newline {
                        index += 1
                        if index == end { break scan }
                        byte = p[index]
                    }
                }
                if escaped {
                    escaped = false
                } else if byte == .quote {
                    inString = false
                    lastContent = index + 1
                } else if byte == .backslash {
                    escaped = true
                }
                if byte == .newline { line += 1 }
                index += 1
                continue
            }
            switch byte {
            case .space, .tab, .carriageReturn:
                break
            case .newline:
                line += 1
            case .quote:
                if !active { beginElement(at: index, line: line); active = true }
                inString = true
                lastContent = index + 1
            case .openBrace, .openBracket:
                if !active { beginElement(at: index, line: line); active = true }
                depth += 1
                lastContent = index + 1
            case .closeBrace, .closeBracket:
                if depth > 0 {
                    depth -= 1
                    lastContent = index + 1
                } else if byte == .closeBracket {
                    // The end of the top-level array.
                    result = finishElement(p, active: active, lastContent: lastContent, closing: true)
                    active = false
                    lastContent = -1
                    phase = .afterArray
                    index += 1
                    break scan
                } else {
                    // A '}' with nothing to close: the element is malformed. If the bytes before
                    // it are already over the cap, report that instead, as a reader with a
                    // smaller buffer would have done before reaching the '}'.
                    if !active { beginElement(at: index, line: line); active = true }
                    let contentBefore = lastContent >= 0 ? elementBase + lastContent - elementStart : contentEnd
                    lastContent = index + 1
                    if !skippingElement {
                        skippingElement = true
                        current = []
                        result = contentBefore > maximumItemBytes
                            ? oversized(line: elementLine)
                            : .malformed(line: elementLine,
                                         message: "line \(elementLine): unbalanced '}' in array element")
                        index += 1
                        break scan
                    }
                }
            case .comma:
                if depth > 0 {
                    lastContent = index + 1
                } else {
                    result = finishElement(p, active: active, lastContent: lastContent, closing: false)
                    active = false
                    lastContent = -1
                    sawSeparator = true
                    separatorLine = line
                    if result != nil {
                        index += 1
                        break scan
                    }
                }
            default:
                if !active { beginElement(at: index, line: line); active = true }
                lastContent = index + 1
            }
            index += 1
        }

        position = index
        self.depth = depth
        self.inString = inString
        self.escaped = escaped
        self.line = line
        elementActive = active
        if active && lastContent >= 0 {
            contentEnd = elementBase + lastContent - elementStart
        }
        return result
    }

    /// Records the start of an element at buffer index `index`.
    @inline(__always)
    private func beginElement(at index: Int, line: Int) {
        elementLine = line
        elementStart = index
        elementBase = 0
        contentEnd = 0
    }

    /// Ends the current element at a top-level `,` (or `]` when `closing`): returns its item, an
    /// empty-element or over-cap record, or nil when there is nothing to report.
    private func finishElement(_ p: UnsafePointer<UInt8>, active: Bool, lastContent: Int,
                               closing: Bool) -> InputRecord? {
        defer {
            skippingElement = false
            elementBase = 0
            contentEnd = 0
        }
        guard active else {
            // `[]` is fine; `[,` `,,` and `,]` leave an empty slot.
            if closing && !sawSeparator { return nil }
            return .malformed(line: separatorLine, message: "line \(separatorLine): empty array element")
        }
        if skippingElement {
            current = []
            return nil
        }
        let end = lastContent >= 0 ? elementBase + lastContent - elementStart : contentEnd
        if end > maximumItemBytes {
            current = []
            return oversized(line: elementLine)
        }
        let json: JSONText
        if elementBase == 0 {
            // The whole element is in this buffer.
            json = JSONText(UnsafeBufferPointer(start: p + elementStart, count: end))
        } else {
            if end <= current.count {
                current.removeLast(current.count - end)
            } else {
                current.append(contentsOf: UnsafeBufferPointer(start: p + elementStart, count: end - elementBase))
            }
            json = current
            current = []
        }
        return .item(InputItem(json: json, line: elementLine))
    }

    /// Checks that only whitespace follows the closing `]`.
    private func checkAfterArray() throws -> InputRecord? {
        while true {
            if position == limit {
                if try refill() { continue }
                phase = .finished
                return nil
            }
            let foundData = withBuffer { p -> Bool in
                while position < limit {
                    switch p[position] {
                    case .newline: line += 1
                    case .space, .tab, .carriageReturn: break
                    default: return true
                    }
                    position += 1
                }
                return false
            }
            if foundData {
                phase = .finished
                return .malformed(line: line, message: "line \(line): unexpected data after the end of the JSON array")
            }
        }
    }

    // MARK: Messages

    /// The record for an item over the cap that starts on `line`.
    private func oversized(line: Int) -> InputRecord {
        .malformed(line: line,
                   message: "line \(line): item is larger than the \(Self.describeCap(maximumItemBytes)) item cap")
    }

    /// The cap in the largest unit that divides it exactly: "16 MB", "64 KB" or "100-byte".
    static func describeCap(_ bytes: Int) -> String {
        if bytes % (1 << 20) == 0 { return "\(bytes >> 20) MB" }
        if bytes % (1 << 10) == 0 { return "\(bytes >> 10) KB" }
        return "\(bytes)-byte"
    }
}

/// The ASCII bytes the scanners look at.
private extension UInt8 {
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let comma: UInt8 = 0x2C
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
}
