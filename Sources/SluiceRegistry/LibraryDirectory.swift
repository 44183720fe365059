import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Libraries kept as files: `<root>/<name>.js` (or `.mjs`), `<root>/<name>.py`, or a folder
/// `<root>/<name>/` holding `index.js` / `<name>.js` (`__init__.py` / `<name>.py` for Python) —
/// the files each language's ``LanguageSupport/libraryFileNames(importName:)`` names, in its
/// order. A library is imported by its file or folder name. Nothing outside `root` is ever read:
/// names with path separators, `..` or a leading dot are not libraries.
public struct LibraryDirectory: LibraryProvider {
    /// The folder libraries are read from.
    public let root: String
    /// Which files hold a library, per language.
    public let languages: LanguageTable

    public init(root: String, languages: LanguageTable) {
        self.root = root
        self.languages = languages
    }

    /// The folder, as an absolute path.
    public var searchedPlaces: [String] {
        [URL(fileURLWithPath: root).standardizedFileURL.path]
    }

    public func library(importName: String, language: Language) throws -> LibrarySource? {
        guard Self.isValidImportName(importName), let support = languages[language] else { return nil }
        for relative in support.libraryFileNames(importName: importName) {
            let path = root + "/" + relative
            if let code = try FileSystem.readTextIfExists(path) {
                return LibrarySource(importName: importName, language: language, fileName: relative, code: code)
            }
        }
        return nil
    }

    /// The default library folder for a transformation: the nearest `libraries/` folder at or
    /// above it, else `./libraries`.
    public static func nearestRoot(to path: String) -> String {
        var directory = URL(fileURLWithPath: path).standardizedFileURL
        var isDirectory: ObjCBool = false
        if !(FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) && isDirectory.boolValue) {
            directory.deleteLastPathComponent()
        }
        while true {
            let candidate = directory.appendingPathComponent("libraries")
            if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), isDirectory.boolValue {
                return candidate.path
            }
            if directory.path == "/" { break }
            directory.deleteLastPathComponent()
        }
        return "libraries"
    }

    /// Import names are plain names: letters, digits, `_`, `-`, `.`, `@` and `/` for scoped
    /// names, never a path that leaves the folder.
    public static func isValidImportName(_ name: String) -> Bool {
        guard !name.isEmpty, !name.hasPrefix("."), !name.hasPrefix("/"), !name.contains("..") else { return false }
        return name.unicodeScalars.allSatisfy { scalar in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-", ".": true
            default: false
            }
        }
    }
}
