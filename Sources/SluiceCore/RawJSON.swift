/// Why JSON text was rejected, with the byte offset of the problem.
public struct RawJSONError: Error, Sendable, Hashable, CustomStringConvertible {
    /// Offset of the offending byte from the start of the text (0-based).
    public let offset: Int
    public let reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

/// Validation and navigation of JSON text without decoding it: finds where values start and end
/// so an envelope can be split and a few fields read while event bodies stay raw bytes.
///
/// Validation is complete (RFC 8259 grammar: strings, escapes, numbers, literals, nesting) and
/// iterative, so deep nesting cannot overflow the stack.
public enum RawJSON {
    private static let quote = UInt8(ascii: "\"")
    typealias Bytes = UnsafeBufferPointer<UInt8>

    /// The end (exclusive) of the value starting at or after `start` (leading whitespace skipped),
    /// validating it.
    public static func valueEnd(_ bytes: [UInt8], from start: Int) throws(RawJSONError) -> Int {
        try bytes.withUnsafeBufferPointer { (buffer) throws(RawJSONError) -> Int in try scanValue(buffer, from: start) }
    }

    static func scanValue(_ bytes: Bytes, from start: Int) throws(RawJSONError) -> Int {
        // Open containers, innermost in bit 0 of `kinds` (1 = object, 0 = array); past 64 levels
        // the outer ones spill to `deeper`. No allocation for ordinary events.
        var kinds: UInt64 = 0
        var depth = 0
        var deeper: [UInt8] = []
        func push(_ isObject: Bool) {
            if depth >= 64 { deeper.append(UInt8(truncatingIfNeeded: kinds >> 63)) }
            kinds = kinds << 1 | (isObject ? 1 : 0)
            depth += 1
        }
        func pop() {
            kinds >>= 1
            depth -= 1
            if depth >= 64, let spilled = deeper.popLast() { kinds |= UInt64(spilled) << 63 }
        }
        var index = skipSpace(bytes, start)
        while true {
            // A value starts at `index`.
            guard index < bytes.count else { throw RawJSONError(offset: index, reason: "unexpected end of input") }
            switch bytes[index] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                let open = bytes[index]
                index = skipSpace(bytes, index + 1)
                // `}` and `]` are `{` and `[` plus 2.
                if index < bytes.count, bytes[index] == open + 2 {
                    index += 1
                } else {
                    push(open == UInt8(ascii: "{"))
                    if open == UInt8(ascii: "{") { index = try memberKey(bytes, index) }
                    continue
                }
            case quote:
                index = try stringEnd(bytes, index)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                index = try numberEnd(bytes, index)
            case UInt8(ascii: "t"):
                index = try literal(bytes, index, "true")
            case UInt8(ascii: "f"):
                index = try literal(bytes, index, "false")
            case UInt8(ascii: "n"):
                index = try literal(bytes, index, "null")
            default:
                throw RawJSONError(offset: index, reason: "expected a value")
            }
            // After a value: close containers or move to the next element.
            while true {
                guard depth > 0 else { return index }
                let inObject = kinds & 1 == 1
                index = skipSpace(bytes, index)
                guard index < bytes.count else { throw RawJSONError(offset: index, reason: "unexpected end of input") }
                let byte = bytes[index]
                if byte == UInt8(ascii: ",") {
                    index = skipSpace(bytes, index + 1)
                    if inObject { index = try memberKey(bytes, index) }
                    break
                }
                if inObject && byte == UInt8(ascii: "}") || !inObject && byte == UInt8(ascii: "]") {
                    pop()
                    index += 1
                    continue
                }
                throw RawJSONError(offset: index, reason: inObject ? "expected ',' or '}'" : "expected ',' or ']'")
            }
        }
    }

    /// Validates the value at the start of `bytes` (leading whitespace skipped, anything after it
    /// ignored, as ``valueEnd(_:from:)``) and, when it is an object, calls `member` with each
    /// member's key literal (quotes included) and value range, in order, in the same pass. False
    /// when the value is not valid JSON or not an object (after `member` may have seen some).
    static func validatingMembers(_ bytes: Bytes, _ member: (_ key: Range<Int>, _ value: Range<Int>) -> Void) -> Bool {
        var index = skipSpace(bytes, 0)
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return false }
        index = skipSpace(bytes, index + 1)
        guard index < bytes.count else { return false }
        if bytes[index] == UInt8(ascii: "}") { return true }
        do {
            while true {
                let keyStart = index
                guard index < bytes.count, bytes[index] == quote else { return false }
                let keyEnd = try stringEnd(bytes, index)
                let colon = skipSpace(bytes, keyEnd)
                guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else { return false }
                let valueStart = skipSpace(bytes, colon + 1)
                let valueEnd = try scanValue(bytes, from: valueStart)
                member(keyStart..<keyEnd, valueStart..<valueEnd)
                index = skipSpace(bytes, valueEnd)
                guard index < bytes.count else { return false }
                if bytes[index] == UInt8(ascii: "}") { return true }
                guard bytes[index] == UInt8(ascii: ",") else { return false }
                index = skipSpace(bytes, index + 1)
            }
        } catch {
            return false
        }
    }

    /// Validates that `bytes` is exactly one JSON value (surrounding whitespace allowed).
    public static func validate(_ bytes: [UInt8]) throws(RawJSONError) {
        try bytes.withUnsafeBufferPointer { (bytes) throws(RawJSONError) in
            let end = skipSpace(bytes, try scanValue(bytes, from: 0))
            if end != bytes.count { throw RawJSONError(offset: end, reason: "unexpected text after the JSON value") }
        }
    }

    /// The element ranges of `bytes`, which must be exactly one JSON array.
    public static func arrayElements(_ bytes: [UInt8]) throws(RawJSONError) -> [Range<Int>] {
        try arrayOfObjects(bytes).map(\.range)
    }

    /// One element of a top-level array: its range and, when it is an object, its members.
    public struct Element: Sendable {
        public var range: Range<Int>
        /// Keys (decoded) and value ranges, in order; nil when the element is not an object.
        public var members: [(key: String, value: Range<Int>)]?
    }

    /// Validates `bytes` as one JSON array and splits it in the same pass: each element's range
    /// and, for objects, their members (so the values are scanned once, not again to split them).
    public static func arrayOfObjects(_ bytes: [UInt8]) throws(RawJSONError) -> [Element] {
        try bytes.withUnsafeBufferPointer { (bytes) throws(RawJSONError) -> [Element] in
            var elements: [Element] = []
            var index = skipSpace(bytes, 0)
            guard index < bytes.count else { throw RawJSONError(offset: index, reason: "empty body, expected a JSON array") }
            guard bytes[index] == UInt8(ascii: "[") else { throw RawJSONError(offset: index, reason: "expected a JSON array") }
            index = skipSpace(bytes, index + 1)
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
            } else {
                while true {
                    let start = skipSpace(bytes, index)
                    var element = Element(range: start..<start, members: nil)
                    if start < bytes.count, bytes[start] == UInt8(ascii: "{") {
                        var members: [(key: String, value: Range<Int>)] = []
                        var position = skipSpace(bytes, start + 1)
                        if position < bytes.count, bytes[position] == UInt8(ascii: "}") {
                            position += 1
                        } else {
                            while true {
                                let keyStart = position
                                let valueStart = try memberKey(bytes, position)
                                let keyEnd = try stringEnd(bytes, keyStart)
                                let valueEnd = try scanValue(bytes, from: valueStart)
                                members.append((decodeString(bytes, keyStart..<keyEnd) ?? "", valueStart..<valueEnd))
                                position = skipSpace(bytes, valueEnd)
                                guard position < bytes.count else { throw RawJSONError(offset: position, reason: "unexpected end of input") }
                                if bytes[position] == UInt8(ascii: "}") { position += 1; break }
                                guard bytes[position] == UInt8(ascii: ",") else { throw RawJSONError(offset: position, reason: "expected ',' or '}'") }
                                position = skipSpace(bytes, position + 1)
                            }
                        }
                        element.range = start..<position
                        element.members = members
                    } else {
                        element.range = start..<(try scanValue(bytes, from: start))
                    }
                    elements.append(element)
                    index = skipSpace(bytes, element.range.upperBound)
                    guard index < bytes.count else { throw RawJSONError(offset: index, reason: "unexpected end of input") }
                    if bytes[index] == UInt8(ascii: "]") { index += 1; break }
                    guard bytes[index] == UInt8(ascii: ",") else { throw RawJSONError(offset: index, reason: "expected ',' or ']'") }
                    index += 1
                }
            }
            index = skipSpace(bytes, index)
            if index != bytes.count { throw RawJSONError(offset: index, reason: "unexpected text after the JSON array") }
            return elements
        }
    }

    /// The members of the object in `range` of already validated text, in order: each key
    /// (decoded) and the range of its value. Nil when the value is not an object.
    public static func objectMembers(_ bytes: [UInt8], _ range: Range<Int>) -> [(key: String, value: Range<Int>)]? {
        bytes.withUnsafeBufferPointer { objectMembers($0, range) }
    }

    static func objectMembers(_ bytes: Bytes, _ range: Range<Int>) -> [(key: String, value: Range<Int>)]? {
        guard let ranges = memberRanges(bytes, range) else { return nil }
        var members: [(key: String, value: Range<Int>)] = []
        members.reserveCapacity(ranges.count)
        for member in ranges {
            guard let key = decodeString(bytes, member.key) else { return nil }
            members.append((key, member.value))
        }
        return members
    }

    /// The members of the object in `range` of already validated text as ranges: each key's
    /// literal (quotes included) and its value. Nil when the value is not an object.
    public static func memberRanges(_ bytes: [UInt8], _ range: Range<Int>) -> [(key: Range<Int>, value: Range<Int>)]? {
        bytes.withUnsafeBufferPointer { memberRanges($0, range) }
    }

    static func memberRanges(_ bytes: Bytes, _ range: Range<Int>) -> [(key: Range<Int>, value: Range<Int>)]? {
        guard range.lowerBound < range.upperBound, range.upperBound <= bytes.count, bytes[range.lowerBound] == UInt8(ascii: "{") else { return nil }
        var members: [(key: Range<Int>, value: Range<Int>)] = []
        var index = skipSpace(bytes, range.lowerBound + 1)
        while index < range.upperBound, bytes[index] == quote {
            let keyEnd = skipValidated(bytes, index, limit: range.upperBound)
            let colon = skipSpace(bytes, keyEnd)
            let valueStart = skipSpace(bytes, colon + 1)
            let valueEnd = skipValidated(bytes, valueStart, limit: range.upperBound)
            members.append((index..<keyEnd, valueStart..<valueEnd))
            let next = skipSpace(bytes, valueEnd)
            guard next < range.upperBound, bytes[next] == UInt8(ascii: ",") else { break }
            index = skipSpace(bytes, next + 1)
        }
        return members
    }

    /// The values of `keys` in the object in `range` of already validated text (nil for a key
    /// that is absent; the last one wins for a repeated key). Keys are compared as bytes, without
    /// building a String per member. Nil when the value is not an object.
    public static func values(of keys: [[UInt8]], in range: Range<Int>, of bytes: [UInt8]) -> [Range<Int>?]? {
        bytes.withUnsafeBufferPointer { bytes in
            guard range.lowerBound < range.upperBound, range.upperBound <= bytes.count, bytes[range.lowerBound] == UInt8(ascii: "{") else { return nil }
            var found = [Range<Int>?](repeating: nil, count: keys.count)
            // One pass over the members, without collecting them.
            var index = skipSpace(bytes, range.lowerBound + 1)
            while index < range.upperBound, bytes[index] == quote {
                let keyEnd = skipValidated(bytes, index, limit: range.upperBound)
                let valueStart = skipSpace(bytes, skipSpace(bytes, keyEnd) + 1)
                let valueEnd = skipValidated(bytes, valueStart, limit: range.upperBound)
                let inner = UnsafeBufferPointer(rebasing: bytes[(index + 1)..<max(index + 1, keyEnd - 1)])
                if inner.contains(UInt8(ascii: "\\")) {
                    if let key = decodeString(bytes, index..<keyEnd), let position = keys.firstIndex(of: Array(key.utf8)) {
                        found[position] = valueStart..<valueEnd
                    }
                } else if let position = keys.firstIndex(where: { $0.count == inner.count && $0.elementsEqual(inner) }) {
                    found[position] = valueStart..<valueEnd
                }
                let next = skipSpace(bytes, valueEnd)
                guard next < range.upperBound, bytes[next] == UInt8(ascii: ",") else { break }
                index = skipSpace(bytes, next + 1)
            }
            return found
        }
    }

    /// The value of `key` in the object in `range` of already validated text, or nil.
    public static func member(_ key: String, of bytes: [UInt8], in range: Range<Int>) -> Range<Int>? {
        objectMembers(bytes, range)?.last { $0.key == key }?.value
    }

    /// The decoded string in `range`, or nil when the value there is not a string.
    public static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        guard range.upperBound <= bytes.count else { return nil }
        return bytes.withUnsafeBufferPointer { decodeString($0, range) }
    }

    /// The element ranges of the array in `range` of already validated text; nil when it is not an array.
    public static func elements(_ bytes: [UInt8], _ range: Range<Int>) -> [Range<Int>]? {
        bytes.withUnsafeBufferPointer { bytes in
            guard range.lowerBound < range.upperBound, range.upperBound <= bytes.count, bytes[range.lowerBound] == UInt8(ascii: "[") else { return nil }
            var result: [Range<Int>] = []
            var index = skipSpace(bytes, range.lowerBound + 1)
            while index < range.upperBound, bytes[index] != UInt8(ascii: "]") {
                let end = skipValidated(bytes, index, limit: range.upperBound)
                result.append(index..<end)
                let next = skipSpace(bytes, end)
                guard next < range.upperBound, bytes[next] == UInt8(ascii: ",") else { break }
                index = skipSpace(bytes, next + 1)
            }
            return result
        }
    }

    /// A string literal's text; strings without escapes are decoded directly.
    static func decodeString(_ bytes: Bytes, _ range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == quote, bytes[range.upperBound - 1] == quote else { return nil }
        let inner = UnsafeBufferPointer(rebasing: bytes[(range.lowerBound + 1)..<(range.upperBound - 1)])
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        return JSONString.decode(bytes[range])
    }

    /// The end of the value at `start` in already validated text: strings and nesting are
    /// tracked, nothing is checked.
    static func skipValidated(_ bytes: Bytes, _ start: Int, limit: Int) -> Int {
        var index = start
        guard index < limit else { return limit }
        switch bytes[index] {
        case quote:
            return validatedStringEnd(bytes, index, limit: limit)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            while index < limit {
                switch bytes[index] {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 { return index + 1 }
                case quote:
                    index = skipValidated(bytes, index, limit: limit) - 1
                default:
                    break
                }
                index += 1
            }
            return limit
        default:
            while index < limit {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D: return index
                default: index += 1
                }
            }
            return limit
        }
    }

    // MARK: - Scanning

    /// The end of the string literal at `start` in already validated text, eight bytes at a
    /// time up to each quote or backslash.
    static func validatedStringEnd(_ bytes: Bytes, _ start: Int, limit: Int) -> Int {
        var index = start + 1
        while true {
            index = firstSpecialByte(bytes, from: index, limit: limit)
            guard index < limit else { return limit }
            if bytes[index] == quote { return index + 1 }
            index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
        }
    }

    /// The index of the first `"`, `\` or control character at or after `index` (`limit` when
    /// there is none), eight bytes at a time.
    @inline(__always)
    static func firstSpecialByte(_ bytes: Bytes, from start: Int, limit: Int) -> Int {
        var index = start
        if let base = bytes.baseAddress {
            while index + 8 <= limit {
                let mask = specialByteMask(UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                if mask != 0 { return index + mask.trailingZeroBitCount / 8 }
                index += 8
            }
        }
        while index < limit {
            let byte = bytes[index]
            if byte == quote || byte == UInt8(ascii: "\\") || byte < 0x20 { return index }
            index += 1
        }
        return limit
    }


    private static func skipSpace(_ bytes: Bytes, _ start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// Reads `"key" :` at `index` and returns where the member's value starts.
    private static func memberKey(_ bytes: Bytes, _ index: Int) throws(RawJSONError) -> Int {
        guard index < bytes.count, bytes[index] == quote else { throw RawJSONError(offset: index, reason: "expected a member name in double quotes") }
        let colon = skipSpace(bytes, try stringEnd(bytes, index))
        guard colon < bytes.count, bytes[colon] == UInt8(ascii: ":") else { throw RawJSONError(offset: colon, reason: "expected ':' after a member name") }
        return skipSpace(bytes, colon + 1)
    }

    private static func stringEnd(_ bytes: Bytes, _ start: Int) throws(RawJSONError) -> Int {
        guard start < bytes.count, bytes[start] == quote else { throw RawJSONError(offset: start, reason: "expected a string") }
        var index = start + 1
        while index < bytes.count {
            index = firstSpecialByte(bytes, from: index, limit: bytes.count)
            guard index < bytes.count else { break }
            let byte = bytes[index]
            if byte == quote { return index + 1 }
            if byte < 0x20 { throw RawJSONError(offset: index, reason: "control character in a string") }
            if byte == UInt8(ascii: "\\") {
                guard index + 1 < bytes.count else { break }
                switch bytes[index + 1] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                     UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    index += 2
                case UInt8(ascii: "u"):
                    guard index + 5 < bytes.count, bytes[(index + 2)...(index + 5)].allSatisfy(isHexDigit) else {
                        throw RawJSONError(offset: index, reason: "invalid \\u escape")
                    }
                    index += 6
                default:
                    throw RawJSONError(offset: index, reason: "invalid escape")
                }
                continue
            }
            index += 1
        }
        throw RawJSONError(offset: bytes.count, reason: "unterminated string")
    }

    /// Whether any byte of `word` is `"`, `\` or below 0x20 (the bytes a string scan must stop
    /// at), eight at a time with the classic has-zero-byte bit trick.
    @inline(__always)
    static func hasSpecialByte(_ word: UInt64) -> Bool { specialByteMask(word) != 0 }

    /// The high bit of each such byte set (little-endian, so the lowest set bit marks the first
    /// one exactly; bits above it may be spurious, from borrows).
    @inline(__always)
    static func specialByteMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func zeroBytes(_ value: UInt64) -> UInt64 { (value &- ones) & ~value & highs }
        let quotes = zeroBytes(word ^ (ones &* 0x22))
        let backslashes = zeroBytes(word ^ (ones &* 0x5C))
        let control = (word &- ones &* 0x20) & ~word & highs
        return quotes | backslashes | control
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    private static func numberEnd(_ bytes: Bytes, _ start: Int) throws(RawJSONError) -> Int {
        var index = start
        func digits() -> Int {
            let first = index
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) { index += 1 }
            return index - first
        }
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        let integerStart = index
        let integerDigits = digits()
        guard integerDigits > 0 else { throw RawJSONError(offset: index, reason: "invalid number") }
        if integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0") {
            throw RawJSONError(offset: integerStart, reason: "invalid number (leading zero)")
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digits() > 0 else { throw RawJSONError(offset: index, reason: "invalid number (no digits after '.')") }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw RawJSONError(offset: index, reason: "invalid number (no exponent digits)") }
        }
        return index
    }

    private static func literal(_ bytes: Bytes, _ start: Int, _ word: StaticString) throws(RawJSONError) -> Int {
        let count = word.utf8CodeUnitCount
        guard start + count <= bytes.count else { throw RawJSONError(offset: start, reason: "expected a value") }
        let matches = word.withUTF8Buffer { expected in
            (0..<count).allSatisfy { bytes[start + $0] == expected[$0] }
        }
        guard matches else { throw RawJSONError(offset: start, reason: "expected a value") }
        return start + count
    }
}
