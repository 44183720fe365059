import Foundation
import SluiceCore

/// The keys a settings object may have: each known key with what its value may hold.
public indirect enum SettingsSchema: Sendable {
    /// Any value (checked by whoever reads it).
    case any
    /// An object with exactly these keys (each optional).
    case object([String: SettingsSchema])
    /// An object with any keys (URLs, credential names), each value as the schema says.
    case map(SettingsSchema)
}

/// A JSON settings file (`transformation.json`, `case.json`, a credentials file, a fetch mocks
/// file) read strictly: malformed JSON is an error naming the line and column, and a key the
/// schema does not know is an error naming the key, where it is and the closest valid key — a
/// misspelt setting is never silently ignored.
public struct SettingsFile: Sendable {
    /// The file as named in messages.
    public let path: String
    public let bytes: [UInt8]
    /// The range of the root value (surrounding whitespace excluded).
    public let root: Range<Int>

    /// Reads `path` and validates its JSON.
    public init(path: String) throws {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readBytes(path)
        } catch {
            throw LoadError("cannot read \(error)")
        }
        try self.init(path: path, bytes: bytes)
    }

    /// Validates `bytes` as the content of `path`.
    public init(path: String, bytes: [UInt8]) throws {
        self.path = path
        self.bytes = bytes
        do throws(RawJSONError) {
            try RawJSON.validate(bytes)
            let start = bytes.firstIndex { ![0x20, 0x09, 0x0A, 0x0D].contains($0) } ?? 0
            root = start..<(try RawJSON.valueEnd(bytes, from: start))
        } catch {
            let position = Self.position(of: error.offset, in: bytes)
            let reason = error.offset >= bytes.count ? "the text ends before the JSON value does" : error.reason
            throw LoadError("\(path):\(position.line):\(position.column): invalid JSON: \(reason)")
        }
    }

    /// Whether the root is an object.
    public var isObject: Bool { RawJSON.objectMembers(bytes, root) != nil }

    /// Throws for the first key, in file order, that `schema` does not know (at any depth), or a
    /// key repeated in one object: `case.json:3:5: unknown key "limts" (did you mean "limits"?)`.
    public func check(_ schema: SettingsSchema) throws {
        try check(root, schema, path: [])
    }

    private func check(_ range: Range<Int>, _ schema: SettingsSchema, path: [String]) throws {
        if case .any = schema { return }
        // A value that is not an object is left to the decoder, which names its type.
        guard let members = RawJSON.memberRanges(bytes, range) else { return }
        var seen: Set<String> = []
        for member in members {
            let key = RawJSON.string(bytes, member.key) ?? ""
            guard seen.insert(key).inserted else {
                throw LoadError("\(place(member.key.lowerBound)): key \"\(key)\" appears twice\(Self.within(path))")
            }
            var valueSchema = SettingsSchema.any
            if case .object(let keys) = schema {
                guard let known = keys[key] else {
                    throw LoadError("\(place(member.key.lowerBound)): unknown key \"\(key)\"\(Self.within(path)) "
                        + Self.suggestion(for: key, among: Array(keys.keys)))
                }
                valueSchema = known
            } else if case .map(let values) = schema {
                valueSchema = values
            }
            try check(member.value, valueSchema, path: path + [key])
        }
    }

    /// `path:line:column` of a byte offset.
    public func place(_ offset: Int) -> String {
        let position = Self.position(of: offset, in: bytes)
        return "\(path):\(position.line):\(position.column)"
    }

    /// The 1-based line and column (in characters) of a byte offset.
    public static func position(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        let end = min(max(offset, 0), bytes.count)
        var line = 1
        var lineStart = 0
        for index in 0..<end where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        return (line, String(decoding: bytes[lineStart..<end], as: UTF8.self).count + 1)
    }

    private static func within(_ path: [String]) -> String {
        path.isEmpty ? "" : " in \"\(path.joined(separator: "."))\""
    }

    /// `(did you mean "limits"?)` for the valid key closest to `key` by edit distance (letter
    /// case ignored; a valid key that starts the other, or that the other starts, is closest),
    /// when it is close enough to be a misspelling; else the list of valid keys.
    public static func suggestion(for key: String, among valid: [String]) -> String {
        let sorted = valid.sorted()
        let lowered = key.lowercased()
        let scored = sorted.map { candidate in
            let other = candidate.lowercased()
            let prefix = !lowered.isEmpty && (lowered.hasPrefix(other) || other.hasPrefix(lowered))
            return (candidate, prefix ? 0 : Wording.editDistance(lowered, other))
        }
        if let best = scored.min(by: { $0.1 < $1.1 }), best.1 <= max(2, min(key.count, best.0.count) / 3) {
            return "(did you mean \"\(best.0)\"?)"
        }
        return "(valid keys: \(sorted.joined(separator: ", ")))"
    }

    /// The root decoded as `type`, with a decoding error named by the key it is about.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw LoadError("\(path): \(Self.describe(error))")
        }
    }

    /// A decoding error as `key.path: what was wrong`.
    public static func describe(_ error: any Error) -> String {
        switch error {
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context),
             DecodingError.keyNotFound(_, let context), DecodingError.dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}

/// A credentials file: a JSON object of credential key → value. Values keep their JSON type
/// (`{"apiKey": "k", "retries": 3}`: `getCredential("retries")` is the number 3).
public enum CredentialsFile {
    /// The credentials of the file at `path`.
    public static func load(path: String) throws -> [String: CredentialValue] {
        try credentials(in: SettingsFile(path: path))
    }

    /// The credentials of an object in `file` (its root, or a member's value such as case.json's
    /// `"credentials"`): each value's JSON text as written.
    public static func credentials(in file: SettingsFile, range: Range<Int>? = nil, name: String = "credentials") throws -> [String: CredentialValue] {
        let range = range ?? file.root
        guard let members = RawJSON.memberRanges(file.bytes, range) else {
            throw LoadError("\(file.place(range.lowerBound)): \(name) must be a JSON object of credential key → value")
        }
        var credentials: [String: CredentialValue] = [:]
        for member in members {
            let key = RawJSON.string(file.bytes, member.key) ?? ""
            guard credentials[key] == nil else {
                throw LoadError("\(file.place(member.key.lowerBound)): credential \"\(key)\" appears twice")
            }
            credentials[key] = CredentialValue(json: String(decoding: file.bytes[member.value], as: UTF8.self))
        }
        return credentials
    }
}
