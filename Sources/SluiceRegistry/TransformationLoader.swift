import Foundation
import SluiceCore

/// A transformation as found on disk: its source, and the limits and description its manifest
/// sets.
public struct TransformationDefinition: Sendable {
    public var source: TransformationSource
    /// Limits from the manifest; nil fields fall back to the caller's defaults.
    public var limits: LimitsOverride
    public var description: String?
    /// The folder of a folder transformation, nil for a single file.
    public var directory: String?
}

/// Per-transformation limit settings (any field may be absent).
public struct LimitsOverride: Sendable, Codable, Hashable {
    public var timeMilliseconds: Int?
    public var memoryMegabytes: Int?

    public init(timeMilliseconds: Int? = nil, memoryMegabytes: Int? = nil) {
        self.timeMilliseconds = timeMilliseconds
        self.memoryMegabytes = memoryMegabytes
    }

    /// The keys of a `"limits"` object in a settings file.
    public static let schema = SettingsSchema.object(["timeMilliseconds": .any, "memoryMegabytes": .any])

    /// `base` with the fields this override sets replaced.
    public func applied(to base: Limits) -> Limits {
        Limits(
            timeMilliseconds: timeMilliseconds ?? base.timeMilliseconds,
            memoryMegabytes: memoryMegabytes ?? base.memoryMegabytes
        )
    }
}

/// The manifest of a folder transformation, `transformation.json`:
///
/// ```json
/// { "name": "mask-pii", "language": "javascript", "entry": "transform.js", "codeVersion": "1",
///   "description": "Hashes emails and phone numbers",
///   "limits": { "timeMilliseconds": 1000, "memoryMegabytes": 64 }, "tests": "tests" }
/// ```
///
/// Every key is optional: `name` defaults to the folder name, `entry` to the one file named
/// `transform.js`, `transform.py`, `index.js` or `index.py`, `language` to the entry's extension,
/// `tests` (the folder of snapshot cases, one folder name inside the transformation's) to `tests`,
/// `codeVersion` to `"1"` (`"0"`: a legacy JavaScript `transform(events)` script, ``CodeVersion``).
public struct TransformationManifest: Codable, Sendable, Hashable {
    public var name: String?
    public var language: String?
    public var codeVersion: String?
    public var entry: String?
    public var description: String?
    public var limits: LimitsOverride?
    public var tests: String?

    public static let fileName = "transformation.json"

    /// The keys the manifest may have: any other is an error naming the closest of these.
    public static let schema = SettingsSchema.object([
        "name": .any, "language": .any, "codeVersion": .any, "entry": .any, "description": .any,
        "limits": LimitsOverride.schema, "tests": .any,
    ])

    /// The snapshot-case folder of the transformation folder `directory`: the manifest's `tests`
    /// when it names a folder inside, else `tests`.
    public static func testsFolder(of directory: String) -> String {
        let path = directory + "/" + fileName
        guard FileSystem.kind(of: path) == .file, let bytes = try? FileSystem.readBytes(path),
              let manifest = try? JSONDecoder().decode(TransformationManifest.self, from: Data(bytes)),
              let tests = manifest.tests, isFolderName(tests) else { return directory + "/tests" }
        return directory + "/" + tests
    }

    static func isFolderName(_ name: String) -> Bool {
        !name.isEmpty && !name.contains("/") && !name.hasPrefix(".")
    }
}

/// An error loading a transformation, naming the path.
public struct LoadError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Reads transformations from files and folders.
public enum TransformationLoader {
    /// `transform.<extension>` then `index.<extension>`, for every language.
    static let defaultEntries = ["transform", "index"].flatMap { base in Language.allCases.map { "\(base).\($0.fileExtension)" } }
    /// Files that make a folder a Sluice transformation folder (rather than a RudderStack project).
    static let markerFiles = [TransformationManifest.fileName] + defaultEntries

    /// Loads a `.js`/`.py` file or a transformation folder.
    public static func load(path: String) throws -> TransformationDefinition {
        switch FileSystem.kind(of: path) {
        case .missing:
            throw LoadError("\(path): no such file or folder")
        case .file:
            let fileName = baseName(path)
            guard let language = Language(fileName: fileName) else {
                throw LoadError("\(path): a transformation file must end in .js or .py")
            }
            let code = try text(path)
            let name = fileName.split(separator: ".").dropLast().joined(separator: ".")
            return TransformationDefinition(
                source: TransformationSource(name: name, language: language, fileName: fileName, code: code),
                limits: LimitsOverride(), description: nil, directory: nil
            )
        case .directory:
            return try loadFolder(path)
        }
    }

    private static func loadFolder(_ path: String) throws -> TransformationDefinition {
        let folder = path.hasSuffix("/") ? String(path.dropLast()) : path
        var manifest = TransformationManifest()
        let manifestPath = folder + "/" + TransformationManifest.fileName
        if FileSystem.kind(of: manifestPath) == .file {
            let file = try SettingsFile(path: manifestPath)
            guard file.isObject else { throw LoadError("\(manifestPath): the manifest must be a JSON object") }
            try file.check(TransformationManifest.schema)
            manifest = try file.decode(TransformationManifest.self)
        }
        let entry: String
        if let declared = manifest.entry {
            guard !declared.contains(".."), !declared.hasPrefix("/") else {
                throw LoadError("\(manifestPath): entry must be a file inside the folder (got \(declared))")
            }
            entry = declared
        } else {
            let present = defaultEntries.filter { FileSystem.kind(of: folder + "/" + $0) == .file }
            guard present.count == 1 else {
                throw LoadError(present.isEmpty
                    ? "\(folder): no transformation found: add transform.js or transform.py, or a \(TransformationManifest.fileName) naming the entry file"
                    : "\(folder): several entry files (\(present.joined(separator: ", "))); name one as \"entry\" in \(TransformationManifest.fileName)")
            }
            entry = present[0]
        }
        let language: Language
        if let declared = manifest.language {
            guard let parsed = Language(name: declared) else {
                throw LoadError("\(manifestPath): unknown language \"\(declared)\" (use javascript or python)")
            }
            language = parsed
        } else if let inferred = Language(fileName: entry) {
            language = inferred
        } else {
            throw LoadError("\(manifestPath): cannot tell the language of \(entry); set \"language\"")
        }
        let entryPath = folder + "/" + entry
        guard FileSystem.kind(of: entryPath) == .file else {
            throw LoadError("\(entryPath): entry file not found")
        }
        let codeVersion: CodeVersion
        switch manifest.codeVersion {
        case nil: codeVersion = .current
        case let declared?:
            guard let known = CodeVersion(rawValue: declared) else {
                throw LoadError("\(manifestPath): codeVersion must be \"1\" or \"0\" (got \"\(declared)\")")
            }
            guard known == .current || language == .javascript else {
                throw LoadError("\(manifestPath): codeVersion \"0\" (a legacy transform(events) script) is JavaScript only")
            }
            codeVersion = known
        }
        if let tests = manifest.tests, !TransformationManifest.isFolderName(tests) {
            throw LoadError("\(manifestPath): tests must be the name of a folder inside the transformation's (got \(tests))")
        }
        if let limits = manifest.limits {
            if let time = limits.timeMilliseconds, time < 1 { throw LoadError("\(manifestPath): limits.timeMilliseconds must be at least 1") }
            if let memory = limits.memoryMegabytes, memory < 1 { throw LoadError("\(manifestPath): limits.memoryMegabytes must be at least 1") }
        }
        return TransformationDefinition(
            source: TransformationSource(
                name: manifest.name ?? baseName(folder), language: language, fileName: entry, code: try text(entryPath),
                codeVersion: codeVersion
            ),
            limits: manifest.limits ?? LimitsOverride(),
            description: manifest.description,
            directory: folder
        )
    }

    private static func text(_ path: String) throws -> String {
        let bytes = try FileSystem.readBytes(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw LoadError("\(path): not valid UTF-8 text")
        }
        return text
    }

    static func baseName(_ path: String) -> String {
        let trimmed = path.hasSuffix("/") ? String(path.dropLast()) : path
        return trimmed.split(separator: "/").last.map(String.init) ?? trimmed
    }
}
