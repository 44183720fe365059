import Foundation
import SluiceCore

/// A structural difference between two JSON values, at a path such as `$[3].output.total`.
public struct JSONDifference: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Both have the path, with different values (JSON text of each).
        case changed(expected: String, actual: String)
        /// The expectation has it; the result does not.
        case missing(expected: String)
        /// The result has it; the expectation does not.
        case added(actual: String)
    }

    public var path: String
    public var kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// `$.total: 10 → 12`, `$[3]: missing`, `+ $.extra`.
    public var description: String {
        switch kind {
        case .changed(let expected, let actual): "\(path): \(expected) → \(actual)"
        case .missing: "\(path): missing"
        case .added(let actual): "+ \(path) = \(actual)"
        }
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
    static func isBoolean(_ number: NSNumber) -> Bool {
        String(cString: number.objCType) == "c"
    }

    /// Compact JSON text of a value, shortened to 120 characters.
    public static func text(_ value: Any) -> String {
        let full: String
        if let string = value as? String {
            full = String(decoding: (try? JSONSerialization.data(withJSONObject: [string], options: [.fragmentsAllowed, .withoutEscapingSlashes])) ?? Data(), as: UTF8.self)
                .dropFirst().dropLast().description
        } else if value is NSNull {
            full = "null"
        } else if let number = value as? NSNumber {
            full = isBoolean(number) ? (number.boolValue ? "true" : "false") : number.description
        } else if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .withoutEscapingSlashes]) {
            full = String(decoding: data, as: UTF8.self)
        } else {
            full = "\(value)"
        }
        return full.count > 120 ? String(full.prefix(117)) + "…" : full
    }
}
