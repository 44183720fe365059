#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The one state machine that splits a stream of events into items without parsing them, fed in
/// chunks as they arrive: the `/v1` streaming run pushes request-body chunks into it, and the
/// runtime's `InputReader` is a read(2) loop around it.
///
/// Format detection: leading whitespace (and a UTF-8 byte-order mark at the very start) is skipped;
/// if the first remaining byte is `[` the input is one JSON array whose elements are the items,
/// otherwise it is NDJSON (one item per non-blank line; one trailing `\r` is removed).
///
/// Items are passed through byte for byte (an array element without its surrounding whitespace);
/// validating them is left to the engine, which reports an invalid one as that event's error. A
/// piece that cannot be an item — over the item cap, an empty array slot, an unbalanced `}`, an
/// array that never closes, text after the array — is a ``InputRecord/malformed(line:message:)``
/// record naming its line, and the stream goes on after it. The records are the same however the
/// stream is cut into chunks.
///
/// Memory holds the unfinished item only, at most about `maximumItemBytes`; an item over the cap is
/// reported and skipped without being kept.
public struct ItemSplitter: Sendable {
    /// The default item size cap: 16 MiB.
    public static let defaultMaximumItemBytes = 16 << 20

    /// The largest item, in bytes (surrounding whitespace and a line's trailing `\r` not counted).
    public let maximumItemBytes: Int
    /// Bytes consumed so far.
    public private(set) var offset = 0
    /// Whether the stream needs no more bytes: the array is closed and what followed it was
    /// reported. Further bytes are ignored.
    public var isFinished: Bool { phase == .finished }

    /// What the splitter is doing.
    private enum Phase: Sendable {
        /// Matching a byte-order mark at the very start.
        case byteOrderMark
        /// Skipping leading whitespace to find out the format.
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
    private enum LineMode: Sendable {
        /// Accumulating the line.
        case normal
        /// The line is over the cap and has been reported: discard up to the next newline.
        case skipping
        /// The line is over the cap but blank so far: discard it, and report it only if a
        /// non-blank byte turns up before the next newline.
        case blankOverflow
    }

    private static let byteOrderMark: [UInt8] = [0xEF, 0xBB, 0xBF]

    private var phase = Phase.byteOrderMark
    /// The 1-based line of the next byte.
    private var line = 1
    /// Bytes of the current item (or line) carried over from earlier chunks.
    private var current: [UInt8] = []
    /// How many bytes of the byte-order mark have matched.
    private var byteOrderMarkMatched = 0

    // NDJSON state.
    private var lineMode = LineMode.normal
    /// The stream offset of the current line's first byte.
    private var lineOffset = 0

    // Array state.
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
    /// The line and stream offset of the current element's first byte.
    private var elementLine = 0
    private var elementOffset = 0
    /// How many bytes of the current element earlier chunks held.
    private var elementBase = 0
    /// The element-relative offset just past the last non-whitespace byte seen in earlier chunks.
    private var contentEnd = 0
    /// Whether a top-level comma has been seen (so an empty slot before `]` is a trailing comma).
    private var sawSeparator = false
    /// The line and stream offset of the last top-level `[` or `,`, where an empty element is reported.
    private var separatorLine = 1
    private var separatorOffset = 0

    /// The stream offsets of the malformed records the last call produced, in order (for
    /// ``feed(bytes:)``, which reports the first as a `RawJSONError`).
    private var malformedOffsets: [Int] = []
    /// The malformed record ``feed(bytes:)`` reports on its next call.
    private var pendingError: RawJSONError?

    public init(maximumItemBytes: Int = ItemSplitter.defaultMaximumItemBytes) {
        precondition(maximumItemBytes > 0, "maximumItemBytes must be positive")
        self.maximumItemBytes = maximumItemBytes
    }

    // MARK: Records

    /// Splits `chunk`, the next bytes of the stream, appending the records it completes to
    /// `records`. Stops early once `records` holds `maximumCount` records (it may hold one more:
    /// an item found over the cap at the end of the chunk) and returns how many bytes it consumed;
    /// pass the rest again.
    public mutating func split(_ chunk: UnsafeBufferPointer<UInt8>, into records: inout [InputRecord],
                               upTo maximumCount: Int = .max) -> Int {
        malformedOffsets.removeAll(keepingCapacity: true)
        guard let base = chunk.baseAddress else { return 0 }
        let end = chunk.count
        var index = 0
        while index < end && records.count < maximumCount {
            switch phase {
            case .byteOrderMark: index = matchByteOrderMark(base, from: index, end: end)
            case .detecting: index = detectFormat(base, from: index, end: end)
            case .ndjson: index = splitLine(base, from: index, end: end, into: &records)
            case .array: index = scanArray(base, from: index, end: end, into: &records, upTo: maximumCount)
            case .afterArray: index = checkAfterArray(base, from: index, end: end, into: &records)
            case .finished: index = end
            }
        }
        offset += index
        return index
    }

    /// The records `chunk` completes.
    public mutating func split(_ chunk: some Collection<UInt8>) -> [InputRecord] {
        var records: [InputRecord] = []
        let bytes = Array(chunk)
        bytes.withUnsafeBufferPointer { buffer in
            var consumed = 0
            while consumed < buffer.count {
                consumed += split(UnsafeBufferPointer(rebasing: buffer[consumed...]), into: &records)
            }
        }
        return records
    }

    /// The end of the stream: appends the last NDJSON line when it has no newline, or a record for
    /// an array that is not closed.
    public mutating func end(into records: inout [InputRecord]) {
        malformedOffsets.removeAll(keepingCapacity: true)
        switch phase {
        case .byteOrderMark:
            // The input ended inside a byte-order mark: what matched is the content of line 1.
            current = Array(Self.byteOrderMark[0 ..< byteOrderMarkMatched])
            if !current.isEmpty { finishLine(UnsafeBufferPointer(start: nil, count: 0), line: line, offset: lineOffset, into: &records) }
        case .ndjson:
            if lineMode == .normal && !current.isEmpty {
                finishLine(UnsafeBufferPointer(start: nil, count: 0), line: line, offset: lineOffset, into: &records)
            }
        case .array:
            current = []
            let at = elementActive ? elementLine : separatorLine
            malformed(line: at, offset: elementActive ? elementOffset : separatorOffset,
                      reason: "unterminated JSON array (missing ']')", into: &records)
        case .detecting, .afterArray, .finished:
            break
        }
        phase = .finished
    }

    /// The records the end of the stream completes (see ``end(into:)``).
    public mutating func end() -> [InputRecord] {
        var records: [InputRecord] = []
        end(into: &records)
        return records
    }

    // MARK: Items only

    /// The items `chunk` completes. A malformed record ends the stream: the items before it are
    /// returned, and the next call (or ``finish()``) throws it as a `RawJSONError` whose offset is
    /// where the piece starts and whose reason is the record's message.
    public mutating func feed(_ chunk: some Collection<UInt8>) throws(RawJSONError) -> [JSONText] {
        try feed(bytes: Array(chunk))
    }

    /// The items `chunk` completes (see ``feed(_:)``).
    public mutating func feed(bytes chunk: [UInt8]) throws(RawJSONError) -> [JSONText] {
        if let pendingError { throw pendingError }
        var records: [InputRecord] = []
        chunk.withUnsafeBufferPointer { _ = split($0, into: &records) }
        return itemsBeforeTheFirstMalformed(records)
    }

    /// The items the end of the stream completes; throws the malformed record that ended the
    /// stream, if any.
    public mutating func finish() throws(RawJSONError) -> [JSONText] {
        if let pendingError { throw pendingError }
        var records: [InputRecord] = []
        end(into: &records)
        let items = itemsBeforeTheFirstMalformed(records)
        if let pendingError { throw pendingError }
        return items
    }

    /// The items of `records` (from one call) up to the first malformed record, which is kept to
    /// throw with its stream offset.
    private mutating func itemsBeforeTheFirstMalformed(_ records: [InputRecord]) -> [JSONText] {
        var items: [JSONText] = []
        for record in records {
            switch record {
            case .item(let item):
                items.append(item.json)
            case .malformed(_, let message):
                pendingError = RawJSONError(offset: malformedOffsets[0], reason: message)
                return items
            }
        }
        return items
    }

    // MARK: Format detection

    /// Matches the byte-order mark; on a mismatch, a partial mark is ordinary content that starts
    /// the first NDJSON line.
    private mutating func matchByteOrderMark(_ p: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
        var index = start
        while index < end {
            if p[index] == Self.byteOrderMark[byteOrderMarkMatched] {
                byteOrderMarkMatched += 1
                index += 1
                if byteOrderMarkMatched == Self.byteOrderMark.count {
                    phase = .detecting
                    return index
                }
            } else {
                if byteOrderMarkMatched > 0 {
                    current = Array(Self.byteOrderMark[0 ..< byteOrderMarkMatched])
                    phase = .ndjson
                } else {
                    phase = .detecting
                }
                return index
            }
        }
        return end
    }

    /// Scans whitespace, counting lines. On the first other byte, switches to array mode (consuming
    /// the `[`) or to NDJSON mode (rewinding to the start of that byte's line, whose leading
    /// whitespace belongs to the first item). Whitespace of the current line that leaves the chunk
    /// is kept in `current`.
    private mutating func detectFormat(_ p: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
        var index = start
        var lineStart = start
        while index < end {
            switch p[index] {
            case .newline:
                line += 1
                index += 1
                lineStart = index
                lineOffset = offset + index
                current.removeAll(keepingCapacity: true)
                lineMode = .normal
            case .space, .tab, .carriageReturn:
                index += 1
            case .openBracket:
                current = []
                lineMode = .normal
                separatorLine = line
                separatorOffset = offset + index
                phase = .array
                return index + 1
            default:
                phase = .ndjson
                return lineStart
            }
        }
        if lineMode == .normal {
            let count = end - lineStart
            if current.count + count > maximumItemBytes + 1 {
                current = []
                lineMode = .blankOverflow
            } else {
                current.append(contentsOf: UnsafeBufferPointer(start: p + lineStart, count: count))
            }
        }
        return end
    }

    // MARK: NDJSON

    /// Splits from `start` to the next newline or the end of the chunk, and returns where it stopped.
    private mutating func splitLine(_ p: UnsafePointer<UInt8>, from start: Int, end: Int,
                                    into records: inout [InputRecord]) -> Int {
        let lineEnd: Int
        if let found = memchr(p + start, Int32(UInt8.newline), end - start) {
            lineEnd = UnsafePointer<UInt8>(found.assumingMemoryBound(to: UInt8.self)) - p
        } else {
            lineEnd = end
        }
        let lineComplete = lineEnd < end
        let lineNumber = line
        let startOffset = lineOffset
        let bytes = UnsafeBufferPointer(start: p + start, count: lineEnd - start)
        let next = lineComplete ? lineEnd + 1 : end
        if lineComplete {
            line += 1
            lineOffset = offset + next
        }

        switch lineMode {
        case .skipping:
            if lineComplete { lineMode = .normal }

        case .blankOverflow:
            if !Self.isBlank(bytes) {
                lineMode = lineComplete ? .normal : .skipping
                oversized(line: lineNumber, offset: startOffset, into: &records)
            } else if lineComplete {
                lineMode = .normal
            }

        case .normal:
            if lineComplete {
                if current.isEmpty {
                    lineRecord(bytes, line: lineNumber, offset: startOffset, into: &records)
                } else {
                    finishLine(bytes, line: lineNumber, offset: startOffset, into: &records)
                }
            } else if current.count + bytes.count > maximumItemBytes + 1 {
                // The line continues in the next chunk and is already over the cap (its content may
                // lose one trailing '\r', hence the + 1).
                let blank = Self.isBlank(current) && Self.isBlank(bytes)
                current = []
                if blank {
                    lineMode = .blankOverflow
                } else {
                    lineMode = .skipping
                    oversized(line: lineNumber, offset: startOffset, into: &records)
                }
            } else {
                current.append(contentsOf: bytes)
            }
        }
        return next
    }

    /// Completes a line whose first bytes are in `current` with its last bytes `tail`.
    private mutating func finishLine(_ tail: UnsafeBufferPointer<UInt8>, line lineNumber: Int, offset: Int,
                                     into records: inout [InputRecord]) {
        if current.count + tail.count > maximumItemBytes + 1 {
            let blank = Self.isBlank(current) && Self.isBlank(tail)
            current = []
            if !blank { oversized(line: lineNumber, offset: offset, into: &records) }
            return
        }
        current.append(contentsOf: tail)
        var json = current
        current = []
        switch json.withUnsafeBufferPointer({ classifyLine($0) }) {
        case .blank:
            break
        case .oversized:
            oversized(line: lineNumber, offset: offset, into: &records)
        case .content(let count):
            json.removeLast(json.count - count)
            records.append(.item(InputItem(json: json, line: lineNumber)))
        }
    }

    /// The record for one complete line (without its '\n') held in the chunk.
    private mutating func lineRecord(_ bytes: UnsafeBufferPointer<UInt8>, line lineNumber: Int, offset: Int,
                                     into records: inout [InputRecord]) {
        switch classifyLine(bytes) {
        case .blank:
            break
        case .oversized:
            oversized(line: lineNumber, offset: offset, into: &records)
        case .content(let count):
            let json = JSONText(UnsafeBufferPointer(rebasing: bytes[0 ..< count]))
            records.append(.item(InputItem(json: json, line: lineNumber)))
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

    /// Scans the array from `start`, and returns where it stopped: the end of the chunk, just after
    /// the closing `]`, or just after the record that made `records` hold `maximumCount`. The bytes
    /// of an unfinished element are carried over into `current`.
    private mutating func scanArray(_ p: UnsafePointer<UInt8>, from start: Int, end: Int,
                                    into records: inout [InputRecord], upTo maximumCount: Int) -> Int {
        // Hot state lives in locals for speed and is written back on exit.
        var index = start
        var depth = self.depth
        var inString = self.inString
        var escaped = self.escaped
        var line = self.line
        var active = elementActive
        /// Where the current element's bytes in this chunk begin.
        var elementStart = start
        /// One past the index of the last non-whitespace element byte in this chunk, or -1.
        var lastContent = -1

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
                if !active { beginElement(at: index, line: line, start: &elementStart); active = true }
                inString = true
                lastContent = index + 1
            case .openBrace, .openBracket:
                if !active { beginElement(at: index, line: line, start: &elementStart); active = true }
                depth += 1
                lastContent = index + 1
            case .closeBrace, .closeBracket:
                if depth > 0 {
                    depth -= 1
                    lastContent = index + 1
                } else if byte == .closeBracket {
                    // The end of the top-level array.
                    finishElement(p, start: elementStart, active: active, lastContent: lastContent,
                                  closing: true, into: &records)
                    active = false
                    lastContent = -1
                    phase = .afterArray
                    index += 1
                    break scan
                } else {
                    // A '}' with nothing to close: the element is malformed. If the bytes before
                    // it are already over the cap, report that instead, as a smaller chunk would
                    // have before reaching the '}'.
                    if !active { beginElement(at: index, line: line, start: &elementStart); active = true }
                    let contentBefore = lastContent >= 0 ? elementBase + lastContent - elementStart : contentEnd
                    lastContent = index + 1
                    if !skippingElement {
                        skippingElement = true
                        current = []
                        if contentBefore > maximumItemBytes {
                            oversized(line: elementLine, offset: elementOffset, into: &records)
                        } else {
                            malformed(line: elementLine, offset: elementOffset,
                                      reason: "unbalanced '}' in array element", into: &records)
                        }
                        if records.count >= maximumCount {
                            index += 1
                            break scan
                        }
                    }
                }
            case .comma:
                if depth > 0 {
                    lastContent = index + 1
                } else {
                    finishElement(p, start: elementStart, active: active, lastContent: lastContent,
                                  closing: false, into: &records)
                    active = false
                    lastContent = -1
                    sawSeparator = true
                    separatorLine = line
                    separatorOffset = offset + index
                    if records.count >= maximumCount {
                        index += 1
                        break scan
                    }
                }
            default:
                if !active { beginElement(at: index, line: line, start: &elementStart); active = true }
                lastContent = index + 1
            }
            index += 1
        }

        self.depth = depth
        self.inString = inString
        self.escaped = escaped
        self.line = line
        elementActive = active
        if active && lastContent >= 0 {
            contentEnd = elementBase + lastContent - elementStart
        }
        if active && !skippingElement {
            carryElementOver(p, from: elementStart, to: index, into: &records)
        }
        return index
    }

    /// Records the start of an element at chunk index `index`.
    @inline(__always)
    private mutating func beginElement(at index: Int, line: Int, start: inout Int) {
        start = index
        elementLine = line
        elementOffset = offset + index
        elementBase = 0
        contentEnd = 0
    }

    /// At the end of a chunk, moves the unfinished element's bytes `from..<to` into `current`, or
    /// reports the element as over the cap (and starts skipping it) if it already is.
    private mutating func carryElementOver(_ p: UnsafePointer<UInt8>, from start: Int, to end: Int,
                                           into records: inout [InputRecord]) {
        let chunkBytes = end - start
        if inString {
            // Everything up to the closing quote counts as content.
            contentEnd = elementBase + chunkBytes
        }
        if contentEnd > maximumItemBytes {
            skippingElement = true
            current = []
            oversized(line: elementLine, offset: elementOffset, into: &records)
            return
        }
        // Once trailing whitespace has been dropped (current.count < elementBase), any further
        // content would put the element over the cap, so there is nothing more worth keeping.
        if current.count == elementBase {
            current.append(contentsOf: UnsafeBufferPointer(start: p + start, count: chunkBytes))
            if current.count > maximumItemBytes {
                // What follows the content is whitespace: drop it to keep memory bounded.
                current.removeLast(current.count - contentEnd)
            }
        }
        elementBase += chunkBytes
    }

    /// Ends the current element at a top-level `,` (or `]` when `closing`): appends its item, an
    /// empty-element or over-cap record, or nothing when there is nothing to report.
    private mutating func finishElement(_ p: UnsafePointer<UInt8>, start elementStart: Int, active: Bool,
                                        lastContent: Int, closing: Bool, into records: inout [InputRecord]) {
        defer {
            skippingElement = false
            elementBase = 0
            contentEnd = 0
        }
        guard active else {
            // `[]` is fine; `[,` `,,` and `,]` leave an empty slot.
            if closing && !sawSeparator { return }
            malformed(line: separatorLine, offset: separatorOffset, reason: "empty array element", into: &records)
            return
        }
        if skippingElement {
            current = []
            return
        }
        let end = lastContent >= 0 ? elementBase + lastContent - elementStart : contentEnd
        if end > maximumItemBytes {
            current = []
            oversized(line: elementLine, offset: elementOffset, into: &records)
            return
        }
        let json: JSONText
        if elementBase == 0 {
            // The whole element is in this chunk.
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
        records.append(.item(InputItem(json: json, line: elementLine)))
    }

    /// Checks that only whitespace follows the closing `]`.
    private mutating func checkAfterArray(_ p: UnsafePointer<UInt8>, from start: Int, end: Int,
                                          into records: inout [InputRecord]) -> Int {
        for index in start ..< end {
            switch p[index] {
            case .newline: line += 1
            case .space, .tab, .carriageReturn: break
            default:
                phase = .finished
                malformed(line: line, offset: offset + index,
                          reason: "unexpected data after the end of the JSON array", into: &records)
                return end
            }
        }
        return end
    }

    // MARK: Messages

    /// Appends the record for a piece of the input starting at `line` (stream offset `offset`) that
    /// cannot be an item.
    private mutating func malformed(line: Int, offset: Int, reason: String, into records: inout [InputRecord]) {
        records.append(.malformed(line: line, message: "line \(line): \(reason)"))
        malformedOffsets.append(offset)
    }

    /// Appends the record for an item over the cap that starts on `line`.
    private mutating func oversized(line: Int, offset: Int, into records: inout [InputRecord]) {
        malformed(line: line, offset: offset,
                  reason: "item is larger than the \(Self.describeCap(maximumItemBytes)) item cap", into: &records)
    }

    /// The cap in the largest unit that divides it exactly: "16 MB", "64 KB" or "100-byte".
    public static func describeCap(_ bytes: Int) -> String {
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
