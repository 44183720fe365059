import Foundation
import SluiceCore

/// A structural difference between two JSON values, at a path such as `$[3].output.total`.
public struct JSONDifference: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Both have the path, with different values (compact JSON text of each).
        case changed(expected: String, actual: String)
        /// The expectation has it; the result does not.
        case missing(expected: String)
        /// The result has it; the expectation does not.
        case added(actual: String)
    }

    public var path: String
    public var kind: Kind
    /// The input event the differing result line belongs to, when it is known.
    public var event: EventReference?

    public init(path: String, kind: Kind, event: EventReference? = nil) {
        self.path = path
        self.kind = kind
        self.event = event
    }

    /// `$.total: 10 → 12`, `$[3]: missing`, `+ $.extra` (values shortened to 120 characters).
    public var description: String {
        switch kind {
        case .changed(let expected, let actual): "\(path): \(JSONDiff.shortened(expected)) → \(JSONDiff.shortened(actual))"
        case .missing: "\(path): missing"
        case .added(let actual): "+ \(path) = \(JSONDiff.shortened(actual))"
        }
    }

    /// `{"path", "expected", "actual"}` with the values themselves (not text); a side that does
    /// not have the path is left out. With the event: `"event": {"line", "messageId"}`.
    public var jsonObject: [String: Any] {
        var object: [String: Any] = ["path": path]
        func value(_ text: String) -> Any {
            (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) ?? text
        }
        switch kind {
        case .changed(let expected, let actual):
            object["expected"] = value(expected)
            object["actual"] = value(actual)
        case .missing(let expected): object["expected"] = value(expected)
        case .added(let actual): object["actual"] = value(actual)
        }
        if let event { object["event"] = event.jsonObject }
        return object
    }
}

/// Which input event a result belongs to: the line of the input file it starts on and its
/// `messageId` (either may be unknown).
public struct EventReference: Sendable, Hashable, CustomStringConvertible {
    /// The line of the input (or recording) file the event starts on.
    public var line: Int?
    public var messageId: String?
    /// The file, for events of several files (recordings).
    public var file: String?

    public init(line: Int?, messageId: String?, file: String? = nil) {
        self.line = line
        self.messageId = messageId
        self.file = file
    }

    /// `input line 3, messageId m-3`; `t-0001.ndjson:3, messageId m-3` with a file.
    public var description: String {
        var parts: [String] = []
        if let line { parts.append(file.map { "\($0):\(line)" } ?? "input line \(line)") }
        if let messageId { parts.append("messageId \(messageId)") }
        return parts.isEmpty ? "an event" : parts.joined(separator: ", ")
    }

    public var jsonObject: [String: Any] {
        var object: [String: Any] = [:]
        if let line { object["line"] = line }
        if let messageId { object["messageId"] = messageId }
        if let file { object["file"] = file }
        return object
    }

    /// The `messageId` of an input item's metadata (the rules of ``ItemMetadata``), nil when it has none.
    public static func messageId(ofInput item: JSONText) -> String? {
        let metadata = ItemMetadata.text(of: item)
        return (try? JSONSerialization.jsonObject(with: Data(metadata)) as? [String: Any])?["messageId"] as? String
    }

    /// The `messageId` a result line carries: its metadata's, or a log line's own.
    static func messageId(ofResult line: Any) -> String? {
        guard let object = line as? [String: Any] else { return nil }
        return (object["metadata"] as? [String: Any])?["messageId"] as? String ?? object["messageId"] as? String
    }

    /// `differences` between lists of result lines, each with the event of the line it is in:
    /// the line's `messageId` (the actual line's, else the expected one's) found among `inputs`.
    public static func annotate(_ differences: [JSONDifference], expected: [Any], actual: [Any],
                                inputs: [(line: Int, messageId: String?)]) -> [JSONDifference] {
        var lineOf: [String: Int] = [:]
        for input in inputs.reversed() { if let id = input.messageId { lineOf[id] = input.line } }
        return differences.map { difference in
            guard let index = resultIndex(difference.path) else { return difference }
            let line: Any? = index < actual.count ? actual[index] : index < expected.count ? expected[index] : nil
            guard let line, let id = messageId(ofResult: line) else { return difference }
            var annotated = difference
            annotated.event = EventReference(line: lineOf[id], messageId: id)
            return annotated
        }
    }

    /// `3` for `$[3].output.total`.
    static func resultIndex(_ path: String) -> Int? {
        guard path.hasPrefix("$["), let close = path.firstIndex(of: "]") else { return nil }
        return Int(path[path.index(path.startIndex, offsetBy: 2)..<close])
    }
}

/// Compares JSON values as parsed by `JSONSerialization`: key order is ignored, numbers compare
/// by value, and `ignore` paths (with `*` for any key or index) are skipped.
public enum JSONDiff {
    public static func differences(expected: Any, actual: Any, ignore: [String] = []) -> [JSONDifference] {
        let patterns = ignore.map(PathPattern.init)
        var result: [JSONDifference] = []
        compare(expected, actual, path: "$", ignore: patterns, into: &result)
        return result
    }

    private static func compare(_ expected: Any, _ actual: Any, path: String, ignore: [PathPattern], into result: inout [JSONDifference]) {
        if ignore.contains(where: { $0.matches(path) }) { return }
        switch (expected, actual) {
        case (let left as [String: Any], let right as [String: Any]):
            for key in Set(left.keys).union(right.keys).sorted() {
                let child = path + PathPattern.component(forKey: key)
                if ignore.contains(where: { $0.matches(child) }) { continue }
                switch (left[key], right[key]) {
                case (let l?, let r?): compare(l, r, path: child, ignore: ignore, into: &result)
                case (let l?, nil): result.append(JSONDifference(path: child, kind: .missing(expected: text(l))))
                case (nil, let r?): result.append(JSONDifference(path: child, kind: .added(actual: text(r))))
                default: break
                }
            }
        case (let left as [Any], let right as [Any]):
            for index in 0..<max(left.count, right.count) {
                let child = path + "[\(index)]"
                if ignore.contains(where: { $0.matches(child) }) { continue }
                if index < left.count && index < right.count {
                    compare(left[index], right[index], path: child, ignore: ignore, into: &result)
                } else if index < left.count {
                    result.append(JSONDifference(path: child, kind: .missing(expected: text(left[index]))))
                } else {
                    result.append(JSONDifference(path: child, kind: .added(actual: text(right[index]))))
                }
            }
        default:
            if !equal(expected, actual) {
                result.append(JSONDifference(path: path, kind: .changed(expected: text(expected), actual: text(actual))))
            }
        }
    }

    /// Scalars: strings, numbers (by value; booleans are not numbers), booleans, null.
    private static func equal(_ left: Any, _ right: Any) -> Bool {
        switch (left, right) {
        case (let l as String, let r as String): return l == r
        case (is NSNull, is NSNull): return true
        case (let l as NSNumber, let r as NSNumber):
            let lBool = isBoolean(l), rBool = isBoolean(r)
            if lBool || rBool { return lBool && rBool && l.boolValue == r.boolValue }
            return l == r
        default: return false
        }
    }

    /// JSONSerialization gives booleans as NSNumbers of type `c`.
    package static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// Compact JSON text of a value.
    public static func text(_ value: Any) -> String {
        if let string = value as? String {
            return String(decoding: (try? JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
                .dropFirst().dropLast().description
        } else if value is NSNull {
            return "null"
        } else if let number = value as? NSNumber {
            return isBoolean(number) ? (number.boolValue ? "true" : "false") : number.description
        } else if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }

    /// `text` shortened to 120 characters, for a line of a report.
    static func shortened(_ text: String) -> String {
        text.count > 120 ? String(text.prefix(117)) + "…" : text
    }
}
