/// The metadata of each input item, read by the host from the item's own text — never from an
/// object user code could reach. Engines attach it to every result, so a transformation cannot
/// change the `messageId`, `destinationId` or any other metadata of what it returns, whatever it
/// does to the object `metadata(event)` hands it.
///
/// The rules are the drivers' (CONTRACT.md §1): an object whose `message` is an object and whose
/// keys are all envelope keys (`message`, `metadata`, `destination`, `libraries`, `credentials`)
/// is an envelope, and its metadata is its `metadata` member (`{}` when missing or null); any
/// other object is a bare event, whose metadata is `{"messageId": …}` when it has a string
/// `messageId`, else `{}`. An item that is not valid JSON, not an object, or whose `metadata` is
/// not an object gets `{}`. A repeated key counts by its last occurrence, as `JSON.parse` and
/// Python's `json` read it. Whitespace outside strings is removed, so a pretty-printed input
/// still gives one-line results.
public enum ItemMetadata {
    static let empty: JSONText = Array("{}".utf8)

    /// The metadata text of each item, in order.
    public static func texts(of items: [JSONText]) -> [JSONText] {
        items.map(text(of:))
    }

    /// The metadata text of one item: one validating pass over the item that notes the
    /// top-level members the rules need (keys compared as bytes; a key with an escape is
    /// decoded first), then the metadata's own text.
    public static func text(of item: JSONText) -> JSONText {
        item.withUnsafeBufferPointer { bytes -> JSONText in
            var message: Range<Int>?
            var metadata: Range<Int>?
            var messageID: Range<Int>?
            var onlyEnvelopeKeys = true
            let isObject = RawJSON.validatingMembers(bytes) { key, value in
                switch TopLevelKey(bytes, key) {
                case .message: message = value
                case .metadata: metadata = value
                case .envelope: break
                case .messageID: messageID = value; onlyEnvelopeKeys = false
                case .other: onlyEnvelopeKeys = false
                }
            }
            guard isObject else { return empty }
            if let message, bytes[message.lowerBound] == UInt8(ascii: "{"), onlyEnvelopeKeys {
                guard let metadata, bytes[metadata.lowerBound] == UInt8(ascii: "{") else { return empty }
                return compacted(bytes, metadata)
            }
            guard let messageID, let decoded = RawJSON.decodeString(bytes, messageID) else { return empty }
            return Array(("{\"messageId\":" + JSONString.encode(decoded) + "}").utf8)
        }
    }

    /// What a top-level key means to the rules.
    private enum TopLevelKey {
        case message, metadata, envelope, messageID, other

        init(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: Range<Int>) {
            let inner = UnsafeBufferPointer(rebasing: bytes[(literal.lowerBound + 1)..<(literal.upperBound - 1)])
            if inner.contains(UInt8(ascii: "\\")) {
                let decoded = RawJSON.decodeString(bytes, literal).map { Array($0.utf8) } ?? []
                self = decoded.withUnsafeBufferPointer { Self(name: $0) }
            } else {
                self = Self(name: inner)
            }
        }

        private init(name: UnsafeBufferPointer<UInt8>) {
            func equals(_ word: StaticString) -> Bool {
                word.utf8CodeUnitCount == name.count && word.withUTF8Buffer { $0.elementsEqual(name) }
            }
            if equals("message") { self = .message }
            else if equals("metadata") { self = .metadata }
            else if equals("messageId") { self = .messageID }
            else if equals("destination") || equals("libraries") || equals("credentials") { self = .envelope }
            else { self = .other }
        }
    }

    /// The JSON text in `range` of `bytes` (already validated) without whitespace outside
    /// strings: runs between such whitespace are copied whole, strings skipped eight bytes at a time.
    static func compacted(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> JSONText {
        var result: JSONText = []
        result.reserveCapacity(range.count)
        var runStart = range.lowerBound
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index = RawJSON.validatedStringEnd(bytes, index, limit: range.upperBound)
            } else if isSpace(byte) {
                result.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                index += 1
                runStart = index
            } else {
                index += 1
            }
        }
        result.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<range.upperBound]))
        return result
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
