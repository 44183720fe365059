import Foundation
import SluiceCore

/// The paths a transformation's results depend on: its file or folder, and every library file
/// its imports consult — directly or through another library, found or not, so that creating a
/// missing library counts as much as editing one. What `--watch` re-runs a transformation for.
public struct TransformationDependencies: Sendable, Equatable {
    /// The transformation's file or folder (absolute).
    public var transformation: String
    /// The library folder its imports are looked up in (absolute).
    public var libraryRoot: String
    /// The library files its imports consult (absolute), found or not.
    public var libraryFiles: Set<String>
    /// The transformation could not be read (no entry file, an invalid manifest): what it would
    /// import is unknown, so any change in the library folder counts.
    public var isUnreadable: Bool

    /// Reads the transformation at `path` (file or folder) now and follows its imports through
    /// the library folder `libraryRoot`.
    public init(transformation path: String, libraryRoot: String, languages: LanguageTable) {
        transformation = FolderWatcher.absolute(path)
        self.libraryRoot = FolderWatcher.absolute(libraryRoot)
        guard let definition = try? TransformationLoader.load(path: transformation) else {
            libraryFiles = []
            isUnreadable = true
            return
        }
        isUnreadable = false
        libraryFiles = LibraryDirectory(root: self.libraryRoot, languages: languages).filesConsulted(by: definition.source)
    }

    /// Whether a change to `path` (absolute; a file, or a folder created or removed) may change
    /// the transformation's results.
    public func isAffected(by path: String) -> Bool {
        Self.overlaps(path, transformation) || libraryFiles.contains { Self.overlaps(path, $0) }
            || (isUnreadable && Self.overlaps(path, libraryRoot))
    }

    /// Whether one path is the other or lies below it (a folder removed takes its files along).
    public static func overlaps(_ a: String, _ b: String) -> Bool {
        a == b || a.hasPrefix(b + "/") || b.hasPrefix(a + "/")
    }
}

extension LibraryDirectory {
    /// Every file in this folder that decides what `source` links: for each library name it
    /// imports, directly or through a library found, each file that could hold that library
    /// (``LanguageSupport/libraryFileNames(importName:)``), whether it exists or not. Follows the
    /// same walk as ``LanguageTable/linkedLibraries(of:from:)``, which it runs.
    public func filesConsulted(by source: TransformationSource) -> Set<String> {
        guard let support = languages[source.language] else { return [] }
        let consulted = ConsultedNames(self)
        _ = try? languages.linkedLibraries(of: source, from: consulted)
        return Set(consulted.names.filter(Self.isValidImportName).flatMap { name in
            support.libraryFileNames(importName: name).map { root + "/" + $0 }
        })
    }
}

/// A library provider that remembers the names it was asked for.
private final class ConsultedNames: LibraryProvider, @unchecked Sendable {
    // @unchecked: `asked` is guarded by `lock`.
    private let base: any LibraryProvider
    private let lock = ThreadLock()
    private var asked: [String] = []

    init(_ base: any LibraryProvider) { self.base = base }

    var names: [String] { lock.withLock { asked } }

    func library(importName: String, language: Language) throws -> LibrarySource? {
        lock.withLock { asked.append(importName) }
        return try base.library(importName: importName, language: language)
    }
}
