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
    private static let envelopeKeys: Set<String> = ["message", "metadata", "destination", "libraries", "credentials"]

    /// The metadata text of each item, in order.
    public static func texts(of items: [JSONText]) -> [JSONText] {
        items.map(text(of:))
    }

    /// The metadata text of one item.
    public static func text(of item: JSONText) -> JSONText {
        let end: Int
        do { end = try RawJSON.valueEnd(item, from: 0) } catch { return empty }
        guard let start = item.firstIndex(where: { !isSpace($0) }), item[start] == UInt8(ascii: "{"),
              let members = RawJSON.objectMembers(item, start..<end) else { return empty }
        let message = members.last { $0.key == "message" }?.value
        if let message, item[message.lowerBound] == UInt8(ascii: "{"), members.allSatisfy({ envelopeKeys.contains($0.key) }) {
            guard let metadata = members.last(where: { $0.key == "metadata" })?.value,
                  item[metadata.lowerBound] == UInt8(ascii: "{") else { return empty }
            return compacted(item[metadata])
        }
        guard let messageID = members.last(where: { $0.key == "messageId" })?.value,
              let decoded = RawJSON.string(item, messageID) else { return empty }
        return Array(("{\"messageId\":" + JSONString.encode(decoded) + "}").utf8)
    }

    /// `text` without whitespace outside strings (JSON text that is already valid).
    public static func compacted(_ text: ArraySlice<UInt8>) -> JSONText {
        guard text.contains(where: isSpace) else { return Array(text) }
        var result: JSONText = []
        result.reserveCapacity(text.count)
        var inString = false
        var escaped = false
        for byte in text {
            if inString {
                result.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if !isSpace(byte) {
                result.append(byte)
                if byte == UInt8(ascii: "\"") { inString = true }
            }
        }
        return result
    }

    @inline(__always)
    private static func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09
    }
}
