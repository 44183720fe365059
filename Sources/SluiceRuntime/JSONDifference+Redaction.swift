import Foundation
import SluiceCore

extension JSONDifference {
    /// This difference between two lists of result lines (paths `$[i]…`) with the values the
    /// recording rules hide shown as `"[redacted]"`. `inputPaths` are the recording's
    /// redaction paths over the input item (``RecordingWriter/Options/redact``,
    /// `serve --record-redact`): as in a recording's results, `$.message.X` reaches each result's
    /// `output.X`, and `$.metadata.X` reaches its `metadata.X`. A difference at or under such a
    /// path shows `"[redacted]"` for both values; one above it (an object that holds it) shows
    /// its values with that part redacted. The path itself, and which side has it, stay.
    public func redacted(inputPaths: [String]) -> JSONDifference {
        let patterns = inputPaths.compactMap(Self.resultPattern)
        guard !patterns.isEmpty else { return self }
        let components = PathPattern.split(path)
        var redacted = self
        for pattern in patterns {
            if pattern.count <= components.count, Self.matches(pattern, components.prefix(pattern.count)) {
                redacted.kind = redacted.kind.mapValues { _ in "[redacted]" }
                return redacted
            }
            if components.count < pattern.count, Self.matches(pattern.prefix(components.count), components[...]) {
                let below = ["$"] + pattern.dropFirst(components.count)
                redacted.kind = redacted.kind.mapValues { text in
                    guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) else { return "[redacted]" }
                    return JSONDiff.text(Redaction.redact(value, path: below))
                }
            }
        }
        return redacted
    }

    /// `$.message.traits.email` → `$ [*] output traits email`; `$.metadata.X` → `$ [*] metadata X`;
    /// other input paths reach no result.
    private static func resultPattern(_ inputPath: String) -> [String]? {
        let components = PathPattern(inputPath).components
        guard components.count >= 2, components[0] == "$" else { return nil }
        switch components[1] {
        case "message": return ["$", "[*]", "output"] + components.dropFirst(2)
        case "metadata": return ["$", "[*]", "metadata"] + components.dropFirst(2)
        default: return nil
        }
    }

    private static func matches(_ pattern: some Collection<String>, _ parts: ArraySlice<String>) -> Bool {
        pattern.count == parts.count && zip(pattern, parts).allSatisfy { pattern, part in
            pattern == part || pattern == "*" && !part.hasPrefix("[") || pattern == "[*]" && part.hasPrefix("[")
        }
    }
}

extension JSONDifference.Kind {
    /// The same kind with each value's JSON text passed through `transform` (`"[redacted]"` is
    /// given as the text of that string).
    func mapValues(_ transform: (String) -> String) -> JSONDifference.Kind {
        func apply(_ text: String) -> String {
            let result = transform(text)
            return result == "[redacted]" ? JSONDiff.text("[redacted]") : result
        }
        switch self {
        case .changed(let expected, let actual): return .changed(expected: apply(expected), actual: apply(actual))
        case .missing(let expected): return .missing(expected: apply(expected))
        case .added(let actual): return .added(actual: apply(actual))
        }
    }
}
