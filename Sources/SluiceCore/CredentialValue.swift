/// The value of one credential, as JSON text: `getCredential(key)` gives user code the value with
/// its JSON type — a string from rudder's UI stays a string, a number or an object from a
/// credentials file or a request stays a number or an object (as rudder-transformer passes on
/// whatever JSON the request carries).
public struct CredentialValue: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    /// The value's JSON text (a string value with its quotes).
    public let json: String

    /// A string value.
    public init(_ string: String) {
        json = JSONString.encode(string)
    }

    public init(stringLiteral value: String) {
        self.init(value)
    }

    /// A value given as JSON text. The caller vouches that `json` is one valid JSON value (it
    /// comes from a parsed document).
    public init(json: String) {
        self.json = json
    }

    /// The text a redaction looks for: a string value's characters, any other value's JSON text.
    public var text: String {
        JSONString.decode(Array(json.utf8)) ?? json
    }

    public var description: String { json }

    /// The credentials as a JSON object's members' text, sorted by key.
    static func object(_ map: [String: CredentialValue]) -> String {
        "{" + map.sorted { $0.key < $1.key }.map { JSONString.encode($0.key) + ":" + $0.value.json }.joined(separator: ",") + "}"
    }
}

extension CredentialValue: Decodable {
    /// Any JSON value (`case.json`'s `credentials`): strings, numbers, booleans, null, arrays and
    /// objects, re-encoded as JSON text (object keys sorted).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            json = "null"
        } else if let value = try? container.decode(Bool.self) {
            json = value ? "true" : "false"
        } else if let value = try? container.decode(String.self) {
            json = JSONString.encode(value)
        } else if let value = try? container.decode(Int64.self) {
            json = String(value)
        } else if let value = try? container.decode(Double.self) {
            json = value.isFinite && value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        } else if let array = try? container.decode([CredentialValue].self) {
            json = "[" + array.map(\.json).joined(separator: ",") + "]"
        } else {
            json = Self.object(try container.decode([String: CredentialValue].self))
        }
    }
}
