import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime

/// One snapshot case: `transformations/<name>/tests/<case>/` with the input events
/// (`input.json`, a JSON array, or `input.ndjson`), the expected results (`expected.ndjson`, in
/// `sluice run --logs` format) and optional settings (`case.json`).
public struct SnapshotCase: Sendable {
    /// The transformation folder the case belongs to.
    public var transformationDirectory: String
    /// The case folder.
    public var directory: String
    /// `<transformation>/<case>`.
    public var id: String

    public var inputPath: String
    public var expectedPath: String { directory + "/" + Self.expectedFileName }
    public var settingsPath: String { directory + "/" + Self.settingsFileName }

    public static let expectedFileName = "expected.ndjson"
    public static let settingsFileName = "case.json"
    public static let inputFileNames = ["input.json", "input.ndjson"]
}

/// `case.json` (every key optional; any other key is an error naming the closest valid one):
///
/// ```json
/// { "description": "orders split into products",
///   "ignore": ["$[*].output.receivedAt"],
///   "credentials": {"apiKey": "test-key", "retries": 3},
///   "limits": {"timeMilliseconds": 500},
///   "batchSize": 200,
///   "now": "2026-01-01T00:00:00Z", "seed": 1,
///   "fetch": {"https://api.example.com/u/1": {"status": 200, "body": {"plan": "pro"}}} }
/// ```
///
/// Clocks are fixed at `now` and random numbers seeded with `seed` (defaults:
/// ``Determinism/testDefaults``). Credentials keep their JSON types. `fetch` holds the mocked
/// responses (``FetchMockFile``).
///
/// `ignore` paths address the list of result lines: `$[2].output.context.ip`; `*` matches any key
/// and `[*]` any index.
public struct CaseSettings: Decodable, Sendable {
    public var description: String?
    public var ignore: [String]?
    public var credentials: [String: CredentialValue]?
    public var limits: LimitsOverride?
    public var batchSize: Int?
    /// The fixed clock, as an ISO 8601 instant.
    public var now: String?
    public var seed: UInt32?
    /// The `"fetch"` mocks as the JSON text the engines take; nil when the case has none.
    public var fetchMocks: String?

    /// The keys `case.json` may have.
    public static let schema = SettingsSchema.object([
        "description": .any, "ignore": .any, "credentials": .map(.any), "limits": LimitsOverride.schema,
        "batchSize": .any, "now": .any, "seed": .any, "fetch": FetchMockFile.schema,
    ])

    private enum CodingKeys: String, CodingKey {
        case description, ignore, credentials, limits, batchSize, now, seed
    }

    public init() {}

    /// The settings of a `case.json`, read strictly: unknown keys, malformed JSON and values of the
    /// wrong type are errors naming the file and the key; credentials keep the JSON text they
    /// have in the file.
    public init(file: SettingsFile) throws {
        guard file.isObject else { throw LoadError("\(file.path): case settings must be a JSON object") }
        try file.check(Self.schema)
        self = try file.decode(CaseSettings.self)
        if let range = RawJSON.member("credentials", of: file.bytes, in: file.root) {
            credentials = try CredentialsFile.credentials(in: file, range: range)
        }
        if let range = RawJSON.member("fetch", of: file.bytes, in: file.root) {
            fetchMocks = try FetchMockFile.mocks(in: file, range: range, name: "fetch")
        }
    }

    /// The determinism this case runs with.
    public func determinism() throws -> Determinism {
        var result = Determinism.testDefaults
        if let seed { result.seed = seed }
        if let now {
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            let plain = ISO8601DateFormatter()
            guard let date = formatter.date(from: now) ?? plain.date(from: now) else {
                throw LoadError("case.json: \"now\" must be an ISO 8601 instant such as 2026-01-01T00:00:00Z (got \(now))")
            }
            result.now = Int64((date.timeIntervalSince1970 * 1000).rounded())
        }
        return result
    }
}

/// Finds cases below paths.
public enum CaseDiscovery {
    /// Cases below each path: a case folder, a transformation folder (its `tests/`, or the folder
    /// its manifest's `tests` names), or a folder
    /// of transformation folders. Sorted by id.
    public static func cases(in paths: [String]) throws -> [SnapshotCase] {
        var found: [SnapshotCase] = []
        for path in paths {
            let trimmed = URL(fileURLWithPath: path).standardizedFileURL.path
            guard isDirectory(trimmed) else { throw LoadError("\(path): no such folder") }
            if inputFile(in: trimmed) != nil {
                // A case folder: <transformation>/tests/<case>
                let tests = (trimmed as NSString).deletingLastPathComponent
                found += caseFolder(trimmed, transformation: (tests as NSString).deletingLastPathComponent)
            } else if isDirectory(TransformationManifest.testsFolder(of: trimmed)) {
                found += cases(ofTransformation: trimmed)
            } else {
                for name in try FileManager.default.contentsOfDirectory(atPath: trimmed).sorted()
                where isDirectory(TransformationManifest.testsFolder(of: trimmed + "/" + name)) {
                    found += cases(ofTransformation: trimmed + "/" + name)
                }
            }
        }
        var seen = Set<String>()
        return found.filter { seen.insert($0.directory).inserted }.sorted { $0.id < $1.id }
    }

    static func cases(ofTransformation directory: String) -> [SnapshotCase] {
        let tests = TransformationManifest.testsFolder(of: directory)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: tests)) ?? []
        return names.sorted().flatMap { caseFolder(tests + "/" + $0, transformation: directory) }
    }

    static func caseFolder(_ directory: String, transformation: String) -> [SnapshotCase] {
        guard let input = inputFile(in: directory) else { return [] }
        let id = (transformation as NSString).lastPathComponent + "/" + (directory as NSString).lastPathComponent
        return [SnapshotCase(transformationDirectory: transformation, directory: directory, id: id, inputPath: input)]
    }

    static func inputFile(in directory: String) -> String? {
        SnapshotCase.inputFileNames.map { directory + "/" + $0 }.first { FileManager.default.fileExists(atPath: $0) }
    }

    static func isDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}
