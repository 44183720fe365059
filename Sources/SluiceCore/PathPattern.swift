/// A path with wildcards: `$[*].output.receivedAt`, `$[0].metadata.*`.
public struct PathPattern: Sendable {
    public let components: [String]

    public init(_ text: String) {
        components = PathPattern.split(text)
    }

    public func matches(_ path: String) -> Bool {
        let parts = PathPattern.split(path)
        guard parts.count == components.count else { return false }
        return zip(components, parts).allSatisfy { pattern, part in
            pattern == part || pattern == "*" || pattern == "[*]" && part.hasPrefix("[")
        }
    }

    /// `.key` for identifier-like keys, `["odd key"]` otherwise.
    public static func component(forKey key: String) -> String {
        let simple = !key.isEmpty && key.unicodeScalars.allSatisfy {
            $0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "_" || $0 == "$"
        }
        if simple { return "." + key }
        return "[" + JSONString.encode(key) + "]"
    }

    /// Splits `$.a[0]["b c"].d` into `["$", "a", "[0]", "[\"b c\"]", "d"]`.
    public static func split(_ path: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var inBrackets = false
        var inString = false
        for character in path {
            if inBrackets {
                current.append(character)
                if character == "\"" { inString.toggle() }
                if character == "]" && !inString {
                    parts.append(current)
                    current = ""
                    inBrackets = false
                }
                continue
            }
            switch character {
            case ".":
                if !current.isEmpty { parts.append(current) }
                current = ""
            case "[":
                if !current.isEmpty { parts.append(current) }
                current = "["
                inBrackets = true
            default:
                current.append(character)
            }
        }
        if !current.isEmpty { parts.append(current) }
        return parts
    }
}
