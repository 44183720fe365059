/// Which of rudder-transformer's conventions a transformation's code follows (its `codeVersion`).
public enum CodeVersion: String, Sendable, Hashable {
    /// `"1"`: a module that defines `transformEvent` or `transformBatch` (CONTRACT.md §1).
    case current = "1"
    /// `"0"`, JavaScript only: a classic script that defines a global `function transform(events)`
    /// (may be async), called once with the group's messages and returning an array of events
    /// not tied to the inputs; `metadata(event)` is a global function, `getCredential` is not
    /// defined (docs/transformations.md, "Legacy transformations").
    case legacy = "0"

    /// rudder-transformer's rule for a `codeVersion` it receives: the string `"1"` is the current
    /// convention; anything else — `"0"`, another string, a missing value — is legacy.
    public init(rudder text: String?) {
        self = text == "1" ? .current : .legacy
    }
}

/// The code of a transformation: one module that defines `transformEvent` or `transformBatch`
/// (or, with ``CodeVersion/legacy``, a script that defines `transform`).
public struct TransformationSource: Sendable, Hashable {
    /// The transformation's name (for messages and metrics).
    public var name: String
    public var language: Language
    /// The file name shown in stack traces and syntax errors, e.g. `transform.js`.
    public var fileName: String
    /// The module's source text.
    public var code: String
    /// The convention the code follows (default ``CodeVersion/current``).
    public var codeVersion: CodeVersion

    public init(name: String, language: Language, fileName: String, code: String, codeVersion: CodeVersion = .current) {
        self.name = name
        self.language = language
        self.fileName = fileName
        self.code = code
        self.codeVersion = codeVersion
    }
}

/// The code of a library: a module other modules import by its ``importName``.
public struct LibrarySource: Sendable, Hashable {
    /// The name used in `import … from "<importName>"`.
    public var importName: String
    public var language: Language
    /// The file name shown in stack traces, e.g. `hashing.js`.
    public var fileName: String
    public var code: String

    public init(importName: String, language: Language, fileName: String, code: String) {
        self.importName = importName
        self.language = language
        self.fileName = fileName
        self.code = code
    }
}

/// Finds libraries by import name. Implementations read a folder, a registry or a store.
public protocol LibraryProvider: Sendable {
    /// The library imported as `importName` in `language`, or nil when there is none.
    func library(importName: String, language: Language) throws -> LibrarySource?

    /// Where this provider looks, as a user can find it (a folder's absolute path), for the
    /// message of an import that found nothing. Default: nowhere to name.
    var searchedPlaces: [String] { get }
}

extension LibraryProvider {
    public var searchedPlaces: [String] { [] }

    /// ` (imported by transform.py; libraries searched: /work/p/libraries)`: the end of both
    /// engines' message for an import no library answers.
    public func missingLibraryContext(importedBy fileName: String) -> String {
        let places = searchedPlaces
        return places.isEmpty ? " (imported by \(fileName))"
            : " (imported by \(fileName); libraries searched: \(places.joined(separator: ", ")))"
    }
}

/// A provider with no libraries.
public struct NoLibraries: LibraryProvider {
    public init() {}
    public func library(importName: String, language: Language) throws -> LibrarySource? { nil }
}

/// A provider over a fixed set of libraries (tests, API-published code).
public struct InMemoryLibraries: LibraryProvider {
    public var libraries: [String: LibrarySource]
    public let searchedPlaces: [String]
    /// `searchedPlaces`: where the libraries were found (a pinned version's folder).
    public init(_ libraries: [LibrarySource], searchedPlaces: [String] = []) {
        var byName: [String: LibrarySource] = [:]
        for library in libraries { byName["\(library.language.rawValue):\(library.importName)"] = library }
        self.libraries = byName
        self.searchedPlaces = searchedPlaces
    }
    public func library(importName: String, language: Language) throws -> LibrarySource? {
        libraries["\(language.rawValue):\(importName)"]
    }
}
