import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Parses the driver's result text (see ``DriverSource``) into results and log lines, straight
/// from JavaScriptCore's UTF-16 buffer: each field is transcoded once, into its own array.
enum DriverRecords {
    static let recordSeparator: UInt16 = 0x1E
    static let fieldSeparator: UInt16 = 0x1F

    /// Appends the records of `text`; `ordered` becomes false when results do not come in
    /// input order.
    static func parse(_ text: UnsafeBufferPointer<UInt16>, results: inout [EventResult], logs: inout [LogLine],
                      ordered: inout Bool) {
        var start = 0
        let count = text.count
        var lastIndex = -1
        var metadataCache = MetadataCache()
        while start < count {
            var end = start
            while end < count && text[end] != recordSeparator { end += 1 }
            let before = results.count
            parseRecord(UnsafeBufferPointer(rebasing: text[start..<end]), results: &results, logs: &logs, cache: &metadataCache)
            if results.count > before {
                let index = results[before].inputIndex ?? Int.max
                if index < lastIndex { ordered = false }
                lastIndex = index
            }
            start = end + 1
        }
    }

    /// Consecutive results with the same metadata text (the outputs of one input) share one
    /// array instead of a copy each. Holds a view into the text being parsed.
    private struct MetadataCache {
        var last = UnsafeBufferPointer<UInt16>(start: nil, count: 0)
        var bytes: JSONText = []

        mutating func bytes(for field: UnsafeBufferPointer<UInt16>) -> JSONText {
            if let previous = last.baseAddress, let current = field.baseAddress, field.count == last.count,
               memcmp(previous, current, field.count * 2) == 0 {
                return bytes
            }
            last = field
            bytes = OutputText.bytes(field)
            return bytes
        }
    }

    private static func parseRecord(_ record: UnsafeBufferPointer<UInt16>, results: inout [EventResult], logs: inout [LogLine],
                                    cache: inout MetadataCache) {
        guard record.count > 1 else { return }
        let kind = record[0]
        // At most four fields: split without allocating.
        var end0 = record.count, end1 = record.count, end2 = record.count
        var fieldCount = 1
        for index in 1..<record.count where record[index] == fieldSeparator {
            switch fieldCount {
            case 1: end0 = index
            case 2: end1 = index
            case 3: end2 = index
            default: break
            }
            fieldCount += 1
            if fieldCount == 4 { break }
        }
        func field(_ number: Int) -> UnsafeBufferPointer<UInt16> {
            let start: Int, end: Int
            switch number {
            case 0: (start, end) = (1, end0)
            case 1: (start, end) = (end0 + 1, end1)
            case 2: (start, end) = (end1 + 1, end2)
            default: (start, end) = (end2 + 1, record.count)
            }
            return UnsafeBufferPointer(rebasing: record[min(start, record.count)..<max(min(start, record.count), end)])
        }
        let index = parseIndex(field(0))
        switch kind {
        case 0x4F where fieldCount >= 3:  // O
            results.append(EventResult(inputIndex: index, outcome: .output(OutputText.bytes(field(1))), metadata: cache.bytes(for: field(2))))
        case 0x44 where fieldCount >= 2:  // D
            results.append(EventResult(inputIndex: index, outcome: .dropped, metadata: cache.bytes(for: field(1))))
        case 0x45 where fieldCount >= 4:  // E
            let kindName = String(decoding: OutputText.bytes(field(1)), as: UTF8.self)
            let literal = OutputText.bytes(field(2))
            let message = JSONString.decode(literal) ?? String(decoding: literal, as: UTF8.self)
            results.append(EventResult(
                inputIndex: index, outcome: .failed(Failure(.named(kindName), message)), metadata: cache.bytes(for: field(3))
            ))
        case 0x4C where fieldCount >= 3:  // L
            let text = JSONString.decode(OutputText.bytes(field(1))) ?? ""
            let messageIdField = field(2)
            let messageId = messageIdField.isEmpty ? nil : JSONString.decode(OutputText.bytes(messageIdField))
            logs.append(LogLine(inputIndex: index, messageId: messageId, text: text))
        default:
            break
        }
    }

    private static func parseIndex(_ field: UnsafeBufferPointer<UInt16>) -> Int? {
        var value = 0
        for unit in field {
            if unit == 0x2D { return nil }  // "-1": no input
            value = value * 10 + Int(unit &- 0x30)
        }
        return value
    }
}
