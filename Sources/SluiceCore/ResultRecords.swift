#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The result text an engine's driver returns for a batch: records separated by U+001E, fields
/// by U+001F — `O<i>␟<output JSON>`, `D<i>`, `E<i>␟<kind>␟<message as a JSON string>` (`B` in
/// place of `E`: a failure of the whole `transformBatch` call, ``Failure/coversBatch``),
/// `L<i>␟<text as a JSON string>␟<messageId as a JSON string, or empty>`, `F<i>␟<unmocked
/// request as a JSON string>` — where `<i>` is the input's index or -1. JSON text escapes both
/// separators, so no field can contain them. Metadata is not part of it: the host attaches each
/// input's own (``ItemMetadata``), so nothing user code does can change it.
///
/// Generic over the code unit (UTF-16 from JavaScriptCore, UTF-8 from CPython); `bytes` turns a
/// field into UTF-8.
public enum ResultRecords {
    /// What the records of one batch (or of one progress chunk) say.
    public struct Parsed {
        public var results: [EventResult] = []
        public var logs: [LogLine] = []
        public var unmockedRequests: [String] = []
        /// False when results do not come in input order.
        public var ordered = true
        /// `T<i>␟<nanoseconds>` records (Python, with ``Batch/measuresEventTimes``): each call's
        /// time, -1 (nil) for a `transformBatch` call.
        public var eventTimes: [(index: Int?, nanoseconds: UInt64)] = []

        public init() {}

        /// The batch's result: the failures found before the engine saw an input put in place of
        /// its results, results in input order, and the call times per input among `inputCount`.
        public func batchResult(early: [Int: Failure], inputCount: Int) -> BatchResult {
            var results = self.results
            ResultRecords.applyEarlyFailures(early, to: &results)
            if !ordered { results = ResultRecords.inputOrder(results) }
            var result = BatchResult(results: results, logs: logs, unmockedRequests: unmockedRequests)
            if !eventTimes.isEmpty {
                var nanoseconds = [UInt64](repeating: 0, count: inputCount)
                for time in eventTimes {
                    if let index = time.index, index < inputCount {
                        nanoseconds[index] &+= time.nanoseconds
                    } else if inputCount > 0 {
                        // A transformBatch call: shared evenly among the inputs.
                        for position in nanoseconds.indices { nanoseconds[position] &+= time.nanoseconds / UInt64(inputCount) }
                    }
                }
                result.eventNanoseconds = nanoseconds
            }
            return result
        }
    }

    /// Adds the records of `text` to `parsed`; a result of input `i` carries `metadata[i]` (`{}`
    /// for -1; empty when `metadata` is empty: the caller attaches it).
    @inlinable
    public static func parse<Unit: FixedWidthInteger & UnsignedInteger>(
        _ text: UnsafeBufferPointer<Unit>, metadata: [JSONText], into parsed: inout Parsed, bytes: (UnsafeBufferPointer<Unit>) -> [UInt8]
    ) {
        var start = 0
        let count = text.count
        var lastIndex = -1
        let unmatched: JSONText = metadata.isEmpty ? [] : Array("{}".utf8)
        func metadataOf(_ index: Int?) -> JSONText {
            guard let index, index < metadata.count else { return unmatched }
            return metadata[index]
        }
        while start < count {
            // An output (the usual record): its JSON text runs to the end of the record and holds
            // no separator, so it is taken in one pass without splitting fields.
            if text[start] == 0x4F {
                var position = start + 1
                var index: Int? = 0
                while position < count, text[position] != 0x1F, text[position] != 0x1E {
                    if text[position] == 0x2D { index = nil } else if let value = index { index = value * 10 + Int(text[position] &- 0x30) }
                    position += 1
                }
                if position < count, text[position] == 0x1F {
                    let end = recordEnd(text, from: position + 1)
                    let output = bytes(UnsafeBufferPointer(rebasing: text[(position + 1)..<end]))
                    parsed.results.append(EventResult(inputIndex: index, outcome: .output(output), metadata: metadataOf(index)))
                    let order = index ?? Int.max
                    if order < lastIndex { parsed.ordered = false }
                    lastIndex = order
                    start = end + 1
                    continue
                }
            }
            let end = recordEnd(text, from: start)
            let record = UnsafeBufferPointer(rebasing: text[start..<end])
            start = end + 1
            guard record.count > 1 else { continue }
            // At most three fields: split without allocating.
            var ends = (record.count, record.count)
            var fieldCount = 1
            for position in 1..<record.count where record[position] == 0x1F {
                if fieldCount == 1 { ends.0 = position } else { ends.1 = position }
                fieldCount += 1
                if fieldCount == 3 { break }
            }
            func field(_ number: Int) -> UnsafeBufferPointer<Unit> {
                let bounds: (Int, Int)
                switch number {
                case 0: bounds = (1, ends.0)
                case 1: bounds = (ends.0 + 1, ends.1)
                default: bounds = (ends.1 + 1, record.count)
                }
                let lower = min(bounds.0, record.count)
                return UnsafeBufferPointer(rebasing: record[lower..<max(lower, bounds.1)])
            }
            var index: Int? = 0
            for unit in field(0) {
                if unit == 0x2D { index = nil; break }  // "-1": no input
                index = index! * 10 + Int(unit &- 0x30)
            }
            let before = parsed.results.count
            switch record[0] {
            case 0x4F where fieldCount >= 2:  // O
                parsed.results.append(EventResult(inputIndex: index, outcome: .output(bytes(field(1))), metadata: metadataOf(index)))
            case 0x44:  // D
                parsed.results.append(EventResult(inputIndex: index, outcome: .dropped, metadata: metadataOf(index)))
            case 0x45 where fieldCount >= 3, 0x42 where fieldCount >= 3:  // E, B
                let kind = String(decoding: bytes(field(1)), as: UTF8.self)
                let literal = bytes(field(2))
                let message = JSONString.decode(literal) ?? String(decoding: literal, as: UTF8.self)
                let failure = Failure(.named(kind), message, coversBatch: record[0] == 0x42)
                parsed.results.append(EventResult(inputIndex: index, outcome: .failed(failure), metadata: metadataOf(index)))
            case 0x4C where fieldCount >= 3:  // L
                let messageIdField = field(2)
                parsed.logs.append(LogLine(
                    inputIndex: index,
                    messageId: messageIdField.isEmpty ? nil : JSONString.decode(bytes(messageIdField)),
                    text: JSONString.decode(bytes(field(1))) ?? ""
                ))
            case 0x54 where fieldCount >= 2:  // T: a call's time
                var nanoseconds: UInt64 = 0
                for unit in field(1) { nanoseconds = nanoseconds &* 10 &+ UInt64(unit &- 0x30) }
                parsed.eventTimes.append((index, nanoseconds))
            case 0x46 where fieldCount >= 2:  // F: a request no mock answered
                if let request = JSONString.decode(bytes(field(1))) { parsed.unmockedRequests.append(request) }
            default:
                break
            }
            if parsed.results.count > before {
                let position = index ?? Int.max
                if position < lastIndex { parsed.ordered = false }
                lastIndex = position
            }
        }
    }

    /// The index of the first U+001E at or after `start` (`text.count` when there is none). An
    /// output's JSON runs to the end of its record, so this search is most of what parsing costs:
    /// UTF-16 is searched sixteen units at a time, UTF-8 with `memchr`.
    @inlinable
    static func recordEnd<Unit: FixedWidthInteger & UnsignedInteger>(_ text: UnsafeBufferPointer<Unit>, from start: Int) -> Int {
        if Unit.self == UInt16.self { return separatorIndex(unsafeBitCast(text, to: UnsafeBufferPointer<UInt16>.self), from: start) }
        if Unit.self == UInt8.self { return separatorIndex(unsafeBitCast(text, to: UnsafeBufferPointer<UInt8>.self), from: start) }
        var end = start
        while end < text.count && text[end] != 0x1E { end += 1 }
        return end
    }

    @usableFromInline
    static func separatorIndex(_ text: UnsafeBufferPointer<UInt16>, from start: Int) -> Int {
        var end = start
        let count = text.count
        if let base = text.baseAddress {
            let raw = UnsafeRawPointer(base)
            let separators = SIMD16<UInt16>(repeating: 0x1E)
            while end &+ 16 <= count {
                if any(raw.loadUnaligned(fromByteOffset: end &* 2, as: SIMD16<UInt16>.self) .== separators) { break }
                end &+= 16
            }
        }
        while end < count && text[end] != 0x1E { end += 1 }
        return end
    }

    @usableFromInline
    static func separatorIndex(_ text: UnsafeBufferPointer<UInt8>, from start: Int) -> Int {
        guard start < text.count, let base = text.baseAddress else { return text.count }
        guard let found = memchr(base + start, 0x1E, text.count - start) else { return text.count }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    /// Puts results in input order (results that belong to no input last), keeping the
    /// driver's order within an input.
    public static func inputOrder(_ results: [EventResult]) -> [EventResult] {
        results.enumerated().sorted { left, right in
            let l = left.element.inputIndex ?? Int.max, r = right.element.inputIndex ?? Int.max
            return l != r ? l < r : left.offset < right.offset
        }.map(\.element)
    }

    /// Replaces the outcome of every result of an input that failed before reaching the engine.
    public static func applyEarlyFailures(_ early: [Int: Failure], to results: inout [EventResult]) {
        guard !early.isEmpty else { return }
        for position in results.indices {
            if let index = results[position].inputIndex, let failure = early[index] {
                results[position].outcome = .failed(failure)
            }
        }
    }
}
