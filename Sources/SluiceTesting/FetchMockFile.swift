import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime

/// Mocked responses for `fetch`, `fetchV2` and `geolocation(ip)`: a JSON object of exact URL →
/// `{"status": 200, "headers": {…}, "body": …}` (every key optional; geolocation lookups under
/// `/geoip/<ip>`). A snapshot case declares them under `"fetch"` in its `case.json`;
/// `sluice run --fetch-mocks FILE` reads a file holding just the object.
public enum FetchMockFile {
    /// The keys of one mocked response.
    public static let responseSchema = SettingsSchema.object(["status": .any, "headers": .any, "body": .any])
    /// A mocks object: any URL, each with a response.
    public static let schema = SettingsSchema.map(responseSchema)

    /// The mocks of the file at `path`, as the JSON text the engines take.
    public static func load(path: String) throws -> String {
        let file = try SettingsFile(path: path)
        try file.check(schema)
        return try mocks(in: file, range: file.root, name: "")
    }

    /// The mocks object in `range` of `file`, checked, as the JSON text the engines take; `name`
    /// prefixes the place named in errors (`fetch` for case.json's member).
    public static func mocks(in file: SettingsFile, range: Range<Int>, name: String) throws -> String {
        guard let object = try? JSONSerialization.jsonObject(with: Data(file.bytes[range]), options: [.fragmentsAllowed]),
              let entries = object as? [String: Any] else {
            throw LoadError("\(file.place(range.lowerBound)): \(name.isEmpty ? "the mocks" : "\"\(name)\"") must be an object of URL → response")
        }
        for (url, entry) in entries {
            let place = "\(file.path): \(name)[\"\(url)\"]"
            guard let response = entry as? [String: Any] else {
                throw LoadError("\(place) must be an object {\"status\", \"headers\", \"body\"}")
            }
            if let status = response["status"] {
                let number = status as? NSNumber
                let valid = number.map { !JSONDiff.isBoolean($0) && $0.doubleValue == Double($0.intValue) && (100...599).contains($0.intValue) } ?? false
                guard valid else { throw LoadError("\(place).status must be an HTTP status number") }
            }
            if let headers = response["headers"], !(headers is [String: Any]) {
                throw LoadError("\(place).headers must be an object")
            }
        }
        return String(decoding: try JSONSerialization.data(withJSONObject: entries, options: [.withoutEscapingSlashes]), as: UTF8.self)
    }
}
