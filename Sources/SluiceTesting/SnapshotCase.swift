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

/// `case.json` (every key optional):
///
/// ```json
/// { "description": "orders split into products",
///   "ignore": ["$[*].output.receivedAt"],
///   "credentials": {"apiKey": "test-key"},
///   "limits": {"timeMilliseconds": 500},
///   "batchSize": 200,
///   "now": "2026-01-01T00:00:00Z", "seed": 1 }
/// ```
///
/// Clocks are fixed at `now` and random numbers seeded with `seed` (defaults:
/// ``Determinism/testDefaults``).
///
/// `ignore` paths address the list of result lines: `$[2].output.context.ip`; `*` matches any key
/// and `[*]` any index.
public struct CaseSettings: Codable, Sendable {
    public var description: String?
    public var ignore: [String]?
    public var credentials: [String: String]?
    public var limits: LimitsOverride?
    public var batchSize: Int?
    /// The fixed clock, as an ISO 8601 instant.
    public var now: String?
    public var seed: UInt32?

    public init() {}

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
