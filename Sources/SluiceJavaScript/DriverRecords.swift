import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Parses the driver's result text (see ``DriverSource``) into results and log lines.
enum DriverRecords {
    static let recordSeparator: UInt8 = 0x1E
    static let fieldSeparator: UInt8 = 0x1F

    /// Appends the records of `buffer`; `ordered` becomes false when results do not come in
    /// input order.
    static func parse(_ buffer: UnsafeBufferPointer<UInt8>, results: inout [EventResult], logs: inout [LogLine],
                      ordered: inout Bool) {
        guard let base = buffer.baseAddress else { return }
        var start = 0
        let count = buffer.count
        var lastIndex = -1
        while start < count {
            let found = memchr(base + start, Int32(recordSeparator), count - start)
            let end = found.map { UnsafePointer<UInt8>($0.assumingMemoryBound(to: UInt8.self)) - base } ?? count
            let before = results.count
            parseRecord(UnsafeBufferPointer(rebasing: buffer[start..<end]), results: &results, logs: &logs)
            if results.count > before {
                let index = results[before].inputIndex ?? Int.max
                if index < lastIndex { ordered = false }
                lastIndex = index
            }
            start = end + 1
        }
    }

    private static func parseRecord(_ record: UnsafeBufferPointer<UInt8>, results: inout [EventResult], logs: inout [LogLine]) {
        guard record.count > 1 else { return }
        let kind = record[0]
        var fields: [UnsafeBufferPointer<UInt8>] = []
        var start = 1
        for index in 1..<record.count where record[index] == fieldSeparator {
            fields.append(UnsafeBufferPointer(rebasing: record[start..<index]))
            start = index + 1
        }
        fields.append(UnsafeBufferPointer(rebasing: record[start..<record.count]))
        let index = parseIndex(fields[0])
        switch kind {
        case UInt8(ascii: "O") where fields.count >= 3:
            results.append(EventResult(inputIndex: index, outcome: .output(Array(fields[1])), metadata: Array(fields[2])))
        case UInt8(ascii: "D") where fields.count >= 2:
            results.append(EventResult(inputIndex: index, outcome: .dropped, metadata: Array(fields[1])))
        case UInt8(ascii: "E") where fields.count >= 4:
            let kindName = String(decoding: fields[1], as: UTF8.self)
            let message = JSONString.decode(fields[2]) ?? String(decoding: fields[2], as: UTF8.self)
            results.append(EventResult(
                inputIndex: index, outcome: .failed(Failure(.named(kindName), message)), metadata: Array(fields[3])
            ))
        case UInt8(ascii: "L") where fields.count >= 3:
            let text = JSONString.decode(fields[1]) ?? ""
            let messageId = fields[2].isEmpty ? nil : JSONString.decode(fields[2])
            logs.append(LogLine(inputIndex: index, messageId: messageId, text: text))
        default:
            break
        }
    }

    private static func parseIndex(_ field: UnsafeBufferPointer<UInt8>) -> Int? {
        var value = 0
        var negative = false
        for byte in field {
            if byte == UInt8(ascii: "-") { negative = true; continue }
            value = value * 10 + Int(byte &- 0x30)
        }
        return negative ? nil : value
    }
}
