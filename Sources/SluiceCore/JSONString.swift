/// JSON string literals: encoding Swift strings and decoding literal text, without a JSON parser.
public enum JSONString {
    /// The JSON literal for `text`, quotes included. Non-ASCII characters are kept as UTF-8;
    /// control characters, quotes and backslashes are escaped.
    public static func encode(_ text: String) -> String {
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        result += "\""
        return result
    }

    /// Appends the JSON literal for `text` to `buffer`.
    public static func append(_ text: String, to buffer: inout [UInt8]) {
        buffer.append(contentsOf: encode(text).utf8)
    }

    /// Decodes a JSON string literal (with its quotes). Nil when the text is not one.
    public static func decode<Bytes: Collection>(_ literal: Bytes) -> String? where Bytes.Element == UInt8 {
        let bytes = Array(literal)
        guard bytes.count >= 2, bytes.first == UInt8(ascii: "\""), bytes.last == UInt8(ascii: "\"") else { return nil }
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 1
        let end = bytes.count - 1
        var pendingHighSurrogate: UInt32?
        func appendScalar(_ value: UInt32) {
            guard let scalar = Unicode.Scalar(value) else {
                output.append(contentsOf: "\u{FFFD}".utf8)
                return
            }
            output.append(contentsOf: String(Character(scalar)).utf8)
        }
        while index < end {
            let byte = bytes[index]
            if byte != UInt8(ascii: "\\") {
                if let high = pendingHighSurrogate { appendScalar(high); pendingHighSurrogate = nil }
                output.append(byte)
                index += 1
                continue
            }
            guard index + 1 < end else { return nil }
            let escape = bytes[index + 1]
            index += 2
            if escape == UInt8(ascii: "u") {
                guard index + 4 <= end, let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) else {
                    return nil
                }
                index += 4
                if (0xD800...0xDBFF).contains(value) {
                    if let high = pendingHighSurrogate { appendScalar(high) }
                    pendingHighSurrogate = value
                } else if (0xDC00...0xDFFF).contains(value), let high = pendingHighSurrogate {
                    appendScalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00))
                    pendingHighSurrogate = nil
                } else {
                    if let high = pendingHighSurrogate { appendScalar(high); pendingHighSurrogate = nil }
                    appendScalar(value)
                }
                continue
            }
            if let high = pendingHighSurrogate { appendScalar(high); pendingHighSurrogate = nil }
            switch escape {
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "/"), UInt8(ascii: "\\"), UInt8(ascii: "\""): output.append(escape)
            default: return nil
            }
        }
        if let high = pendingHighSurrogate { appendScalar(high) }
        return String(decoding: output, as: UTF8.self)
    }
}
