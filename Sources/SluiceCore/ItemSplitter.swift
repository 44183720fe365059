/// Splits a stream of events, fed in chunks as they arrive, into items without parsing them:
/// a JSON array (its elements) or NDJSON (its non-blank lines), told apart by the first byte that
/// is not white space (`[` means an array). Memory holds the unfinished item only, up to
/// `maximumItemBytes`. Items are not validated — the engine reports an invalid one as that
/// event's error — but the array's own structure is: a missing `,`, an unterminated array or
/// text after it is an `RawJSONError` naming the byte offset.
public struct ItemSplitter: Sendable {
    public enum Format: Sendable { case undecided, ndjson, array, finished }

    public private(set) var format: Format = .undecided
    public let maximumItemBytes: Int
    /// Bytes consumed so far (offsets in errors count from the start of the stream).
    public private(set) var offset = 0
    private var current: [UInt8] = []
    // Array scanning state.
    private var depth = 0
    private var inString = false
    private var escaped = false
    /// In an array, between elements: true once a `,` (or the opening `[`) allows the next one.
    private var expectingElement = true
    private var sawElement = false

    public init(maximumItemBytes: Int = 16 << 20) {
        self.maximumItemBytes = maximumItemBytes
    }

    /// The items `chunk` completes.
    public mutating func feed(_ chunk: some Collection<UInt8>) throws(RawJSONError) -> [JSONText] {
        try feed(bytes: Array(chunk))
    }

    /// The items `chunk` completes (non-generic, so the byte loop is compiled for arrays once).
    public mutating func feed(bytes chunk: [UInt8]) throws(RawJSONError) -> [JSONText] {
        var items: [JSONText] = []
        var index = 0
        let end = chunk.count
        while index < end {
            if format == .ndjson {
                // Whole lines at a time: NDJSON needs no byte-by-byte state.
                let newline = chunk[index...].firstIndex(of: 0x0A) ?? end
                let length = newline - index
                guard current.count + length <= maximumItemBytes else {
                    throw RawJSONError(offset: offset + maximumItemBytes - current.count, reason: "an item is larger than the \(maximumItemBytes >> 20) MB item cap")
                }
                current.append(contentsOf: chunk[index..<newline])
                offset += length
                index = newline
                if newline < end {
                    emitLine(into: &items)
                    offset += 1
                    index += 1
                }
                continue
            }
            if format == .array && inString && !escaped {
                // Inside a string: copy up to the next quote or backslash in one go.
                var stop = index
                while stop < end && chunk[stop] != UInt8(ascii: "\"") && chunk[stop] != UInt8(ascii: "\\") { stop += 1 }
                if stop > index {
                    guard current.count + stop - index <= maximumItemBytes else {
                        throw RawJSONError(offset: offset, reason: "an item is larger than the \(maximumItemBytes >> 20) MB item cap")
                    }
                    current.append(contentsOf: chunk[index..<stop])
                    offset += stop - index
                    index = stop
                    continue
                }
            }
            try take(chunk[index], into: &items)
            offset += 1
            index += 1
        }
        return items
    }

    /// The end of the stream: the last NDJSON line without a newline, or an error for an
    /// unterminated array.
    public mutating func finish() throws(RawJSONError) -> [JSONText] {
        switch format {
        case .ndjson:
            var items: [JSONText] = []
            emitLine(into: &items)
            format = .finished
            return items
        case .array:
            throw RawJSONError(offset: offset, reason: "the JSON array is not closed with ]")
        case .undecided, .finished:
            format = .finished
            return []
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 }

    private mutating func take(_ byte: UInt8, into items: inout [JSONText]) throws(RawJSONError) {
        switch format {
        case .undecided:
            if Self.isSpace(byte) || (offset < 3 && [0xEF, 0xBB, 0xBF].contains(byte)) { return }
            if byte == UInt8(ascii: "[") {
                format = .array
            } else {
                format = .ndjson
                try append(byte)
            }
        case .ndjson:
            if byte == 0x0A {
                emitLine(into: &items)
            } else {
                try append(byte)
            }
        case .array:
            try takeInArray(byte, into: &items)
        case .finished:
            if !Self.isSpace(byte) { throw RawJSONError(offset: offset, reason: "unexpected text after the JSON array") }
        }
    }

    private mutating func takeInArray(_ byte: UInt8, into items: inout [JSONText]) throws(RawJSONError) {
        if depth == 0 && !inString && current.isEmpty {
            // Between elements.
            if Self.isSpace(byte) { return }
            if byte == UInt8(ascii: "]") {
                if expectingElement && sawElement { throw RawJSONError(offset: offset, reason: "expected an element after ,") }
                format = .finished
                return
            }
            if byte == UInt8(ascii: ",") {
                if expectingElement { throw RawJSONError(offset: offset, reason: "expected an element before ,") }
                expectingElement = true
                return
            }
            guard expectingElement else { throw RawJSONError(offset: offset, reason: "expected , or ] after an element") }
            expectingElement = false
            sawElement = true
        }
        if inString {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            }
            try append(byte)
            if depth == 0 && !inString { emitElement(into: &items) }
            return
        }
        switch byte {
        case UInt8(ascii: "\""):
            inString = true
            try append(byte)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            depth += 1
            try append(byte)
        case UInt8(ascii: "}"), UInt8(ascii: "]"):
            if depth == 0 {
                // A scalar element ends at the array's own `]`.
                emitElement(into: &items)
                format = .finished
                return
            }
            depth -= 1
            try append(byte)
            if depth == 0 { emitElement(into: &items) }
        case UInt8(ascii: ","):
            if depth == 0 {
                emitElement(into: &items)
                expectingElement = true
            } else {
                try append(byte)
            }
        default:
            if depth == 0 && Self.isSpace(byte) {
                emitElement(into: &items)
            } else {
                try append(byte)
            }
        }
    }

    private mutating func append(_ byte: UInt8) throws(RawJSONError) {
        guard current.count < maximumItemBytes else {
            throw RawJSONError(offset: offset, reason: "an item is larger than the \(maximumItemBytes >> 20) MB item cap")
        }
        current.append(byte)
    }

    private mutating func emitElement(into items: inout [JSONText]) {
        guard !current.isEmpty else { return }
        items.append(current)
        current.removeAll(keepingCapacity: true)
    }

    private mutating func emitLine(into items: inout [JSONText]) {
        var end = current.count
        while end > 0 && Self.isSpace(current[end - 1]) { end -= 1 }
        var start = 0
        while start < end && Self.isSpace(current[start]) { start += 1 }
        if start < end { items.append(Array(current[start..<end])) }
        current.removeAll(keepingCapacity: true)
    }
}
