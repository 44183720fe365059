import Foundation
import SluiceCore
import Yams

/// A RudderStack CLI project: YAML resource files (`version: rudder/v1`) of `kind: transformation`
/// and `kind: transformation-library`, anywhere below a folder, so existing projects run
/// unchanged.
///
/// ```yaml
/// version: rudder/v1
/// kind: transformation
/// metadata: {name: my-transformation}
/// spec:
///   id: my-transformation
///   name: My Transformation
///   language: javascript          # or python
///   file: javascript/my-transformation.js   # or `code: |` inline
///   tests:
///     - name: Basic payload test
///       input: tests/input        # default ./input, relative to the YAML file
///       output: tests/output      # default ./output
/// ```
///
/// Libraries (`kind: transformation-library`) are imported by their `import_name`, which must be
/// the camelCase of their `name`.
public struct RudderProject: Sendable {
    public struct Transformation: Sendable {
        public var id: String
        public var description: String?
        public var source: TransformationSource
        /// The YAML file that declares it.
        public var specFile: String
        public var tests: [TestSuite]
    }

    /// A folder of input files, each one test case, and a folder of expected outputs with the
    /// same file names.
    public struct TestSuite: Sendable {
        public var name: String
        public var inputDirectory: String
        public var outputDirectory: String
    }

    public var transformations: [Transformation] = []
    public var libraries: [LibrarySource] = []

    /// The project's libraries, by import name.
    public var libraryProvider: InMemoryLibraries { InMemoryLibraries(libraries) }

    /// Every RudderStack resource file below `directory` (or the file itself).
    public static func load(_ path: String) throws -> RudderProject {
        var project = RudderProject()
        for file in try yamlFiles(below: path) {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8), text.contains("rudder/v1") else { continue }
            for document in try documents(in: text, file: file) {
                guard document["version"] as? String == "rudder/v1", let kind = document["kind"] as? String,
                      let specKeys = specKeys[kind] else { continue }
                try checkKeys(document, documentKeys, in: "", file: file)
                try checkKeys(document["metadata"], metadataKeys, in: "metadata", file: file)
                try checkKeys(document["spec"], specKeys, in: "spec", file: file)
                let spec = document["spec"] as? [String: Any] ?? [:]
                switch kind {
                case "transformation": project.transformations.append(try transformation(spec, file: file))
                default: project.libraries.append(try library(spec, file: file))
                }
            }
        }
        project.transformations.sort { $0.id < $1.id }
        return project
    }

    /// True when `path` holds at least one RudderStack resource file.
    public static func exists(at path: String) -> Bool {
        ((try? yamlFiles(below: path)) ?? []).contains { file in
            (try? String(contentsOfFile: file, encoding: .utf8))?.contains("rudder/v1") == true
        }
    }

    // MARK: - Parsing

    /// The keys rudder-cli accepts (its `specs` package, which decodes strictly): a resource
    /// file's own, its `metadata`'s, and each kind's `spec`'s.
    static let documentKeys = ["version", "kind", "metadata", "spec"]
    static let metadataKeys = ["name", "import"]
    static let specKeys = [
        "transformation": ["id", "name", "description", "language", "code", "file", "tests"],
        "transformation-library": ["id", "name", "description", "language", "code", "file", "import_name"],
    ]
    static let testKeys = ["name", "input", "output"]

    /// Throws for the first key of `value` (when it is a mapping) that is not in `valid`, naming
    /// it with its place (`spec.langauge`), the file and the closest valid key.
    static func checkKeys(_ value: Any?, _ valid: [String], in place: String, file: String) throws {
        guard let mapping = value as? [String: Any] else { return }
        for key in mapping.keys.sorted() where !valid.contains(key) {
            let name = place.isEmpty ? key : "\(place).\(key)"
            throw LoadError("\(file): unknown key \"\(name)\" \(SettingsFile.suggestion(for: key, among: valid))")
        }
    }

    private static func documents(in text: String, file: String) throws -> [[String: Any]] {
        do {
            return try Yams.load_all(yaml: text).compactMap { $0 as? [String: Any] }
        } catch {
            throw LoadError("\(file): invalid YAML: \(error)")
        }
    }

    private static func transformation(_ spec: [String: Any], file: String) throws -> Transformation {
        let id = try required(spec, "id", file: file)
        let name = try required(spec, "name", file: file)
        let language = try languageOf(spec, file: file)
        let (code, fileName) = try code(spec, file: file, id: id, language: language)
        let directory = (file as NSString).deletingLastPathComponent
        var suites: [TestSuite] = []
        for (index, entry) in ((spec["tests"] as? [Any]) ?? []).enumerated() {
            guard let test = entry as? [String: Any], let suiteName = test["name"] as? String, !suiteName.isEmpty else {
                throw LoadError("\(file): spec.tests[\(index)] needs a non-empty name")
            }
            try checkKeys(test, testKeys, in: "spec.tests[\(index)]", file: file)
            suites.append(TestSuite(
                name: suiteName,
                inputDirectory: resolve(test["input"] as? String ?? "./input", in: directory),
                outputDirectory: resolve(test["output"] as? String ?? "./output", in: directory)
            ))
        }
        return Transformation(
            id: id, description: spec["description"] as? String,
            source: TransformationSource(name: name, language: language, fileName: fileName, code: code),
            specFile: file, tests: suites
        )
    }

    private static func library(_ spec: [String: Any], file: String) throws -> LibrarySource {
        let name = try required(spec, "name", file: file)
        let importName = try required(spec, "import_name", file: file)
        let expected = camelCase(name)
        guard importName == expected else {
            throw LoadError("\(file): import_name must be the camelCase of name (\"\(name)\" → \"\(expected)\", got \"\(importName)\")")
        }
        let language = try languageOf(spec, file: file)
        let (code, fileName) = try code(spec, file: file, id: importName, language: language)
        return LibrarySource(importName: importName, language: language, fileName: fileName, code: code)
    }

    private static func required(_ spec: [String: Any], _ key: String, file: String) throws -> String {
        guard let value = spec[key] as? String, !value.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw LoadError("\(file): spec.\(key) is required")
        }
        return value
    }

    private static func languageOf(_ spec: [String: Any], file: String) throws -> Language {
        let name = try required(spec, "language", file: file)
        guard let language = Language(name: name) else { throw LoadError("\(file): spec.language must be javascript or python (got \(name))") }
        return language
    }

    /// The code (inline `code` or the `file` it names) and the file name shown in errors.
    private static func code(_ spec: [String: Any], file: String, id: String, language: Language) throws -> (String, String) {
        switch (spec["code"] as? String, spec["file"] as? String) {
        case (let code?, nil):
            return (code, "\(id).\(language.fileExtension)")
        case (nil, let relative?):
            let path = resolve(relative, in: (file as NSString).deletingLastPathComponent)
            guard let code = try? String(contentsOfFile: path, encoding: .utf8) else { throw LoadError("\(file): spec.file \(relative) cannot be read") }
            return (code, (relative as NSString).lastPathComponent)
        case (.some, .some):
            throw LoadError("\(file): spec.code and spec.file are mutually exclusive")
        case (nil, nil):
            throw LoadError("\(file): spec.code or spec.file is required")
        }
    }

    /// RudderStack's import name of a library name, lodash's camelCase: "Get Finance Data" →
    /// "getFinanceData", "UAParser" → "uaParser" (see ``LodashCamelCase``).
    public static func camelCase(_ name: String) -> String {
        LodashCamelCase.camelCase(name)
    }

    static func resolve(_ path: String, in directory: String) -> String {
        let joined = path.hasPrefix("/") ? path : directory + "/" + path
        return URL(fileURLWithPath: joined).standardizedFileURL.path
    }

    private static func yamlFiles(below path: String) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return [] }
        if !isDirectory.boolValue { return path.hasSuffix(".yaml") || path.hasSuffix(".yml") ? [path] : [] }
        guard let enumerator = FileManager.default.enumerator(atPath: path) else { return [] }
        var files: [String] = []
        while let relative = enumerator.nextObject() as? String {
            if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
            if relative.hasSuffix(".yaml") || relative.hasSuffix(".yml") { files.append(path + "/" + relative) }
        }
        return files.sorted()
    }
}
