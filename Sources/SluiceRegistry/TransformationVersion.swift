import Foundation
import SluiceCore

/// One immutable version of a transformation: its code, the exact code of every library it
/// links, and its limits, under an id derived from all of them. The same content always has the
/// same id; any change — to the code, a linked library, the file name shown in stack traces, the
/// limits — gives a new id. The id is usable as rudder-server's `VersionID`.
public struct TransformationVersion: Sendable, Hashable {
    /// `sv` and 24 hex digits of a SHA-256 over the content (96 bits).
    public let id: String
    /// The transformation's name, by which its live version is found (folder name, manifest
    /// `name`, or a RudderStack spec's `id`).
    public var name: String { source.name }
    public let source: TransformationSource
    /// The libraries it links, by import name (transitively), exactly as they were when the
    /// version was made.
    public let libraries: [LibrarySource]
    public let limits: LimitsOverride
    public let description: String?
    /// Where it came from: a folder, a YAML file, or `store`.
    public let origin: String
    /// Where its libraries were looked up (``LibraryProvider/searchedPlaces``), for the message of
    /// an import that found nothing; not part of the id.
    public var libraryPlaces: [String] = []

    public init(source: TransformationSource, libraries: [LibrarySource], limits: LimitsOverride = LimitsOverride(),
                description: String? = nil, origin: String) {
        let sorted = libraries.sorted { ($0.importName, $0.language.rawValue) < ($1.importName, $1.language.rawValue) }
        self.source = source
        self.libraries = sorted
        self.limits = limits
        self.description = description
        self.origin = origin
        id = Self.contentID(source: source, libraries: sorted, limits: limits)
    }

    /// Equal when everything but ``libraryPlaces`` is: where libraries were looked up is a hint
    /// for error messages, not content (a version read back from a store has none).
    public static func == (left: TransformationVersion, right: TransformationVersion) -> Bool {
        left.id == right.id && left.source == right.source && left.libraries == right.libraries
            && left.limits == right.limits && left.description == right.description && left.origin == right.origin
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(id)
        hasher.combine(origin)
    }

    /// The pinned libraries, for compiling this version (never the live folder).
    public var libraryProvider: InMemoryLibraries { InMemoryLibraries(libraries) }

    /// Makes a version of `source`, pinning the libraries it links from `libraries`: exactly
    /// those its engine would look up, as `languages` knows them (``LanguageTable/linkedLibraries(of:from:)``).
    public static func linking(_ source: TransformationSource, from libraries: any LibraryProvider, languages: LanguageTable,
                               limits: LimitsOverride = LimitsOverride(), description: String? = nil, origin: String) throws -> TransformationVersion {
        var version = TransformationVersion(
            source: source, libraries: try languages.linkedLibraries(of: source, from: libraries),
            limits: limits, description: description, origin: origin)
        version.libraryPlaces = libraries.searchedPlaces
        return version
    }

    static func contentID(source: TransformationSource, libraries: [LibrarySource], limits: LimitsOverride) -> String {
        var hasher = SHA256()
        let fields = ["sluice-version/1", source.name, source.language.rawValue, source.fileName, source.code,
                      limits.timeMilliseconds.map { String($0) } ?? "", limits.memoryMegabytes.map { String($0) } ?? "",
                      String(libraries.count)]
            + libraries.flatMap { [$0.importName, $0.language.rawValue, $0.fileName, $0.code] }
            // Only legacy code adds a field, so the ids of everything else stay as they were.
            + (source.codeVersion == .legacy ? ["codeVersion/0"] : [])
        for field in fields { hasher.field(field) }
        return "sv" + hasher.hexDigest().prefix(24)
    }
}

/// Libraries from the first provider that has them (a RudderStack project's own, then the
/// shared folder).
public struct ChainedLibraries: LibraryProvider {
    public let providers: [any LibraryProvider]
    public init(_ providers: [any LibraryProvider]) { self.providers = providers }

    public var searchedPlaces: [String] { providers.flatMap(\.searchedPlaces) }

    public func library(importName: String, language: Language) throws -> LibrarySource? {
        for provider in providers {
            if let library = try provider.library(importName: importName, language: language) { return library }
        }
        return nil
    }
}
