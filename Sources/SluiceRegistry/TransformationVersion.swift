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

    /// The pinned libraries, for compiling this version (never the live folder).
    public var libraryProvider: InMemoryLibraries { InMemoryLibraries(libraries) }

    /// Makes a version of `source`, linking the libraries its imports name from `libraries`.
    public static func linking(_ source: TransformationSource, from libraries: any LibraryProvider, limits: LimitsOverride = LimitsOverride(),
                               description: String? = nil, origin: String) throws -> TransformationVersion {
        TransformationVersion(
            source: source, libraries: try ImportScanner.linkedLibraries(of: source.code, language: source.language, from: libraries),
            limits: limits, description: description, origin: origin)
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

/// Finds the libraries a module imports, without an engine: a textual scan for import
/// statements (`import … from "name"`, `export … from "name"`, `import "name"` in JavaScript;
/// `import name`, `from name import …` in Python), followed transitively through the libraries
/// found. It may over-include (an import inside a comment) — which only pins one more library —
/// but never misses a static import, the only kind either engine allows.
public enum ImportScanner {
    nonisolated(unsafe) private static let javascriptPattern = try! NSRegularExpression(
        pattern: #"(?:\bfrom|\bimport)\s*["']([^"'\n]+)["']"#)
    nonisolated(unsafe) private static let pythonFromPattern = try! NSRegularExpression(
        pattern: #"(?m)^[ \t]*from[ \t]+([A-Za-z_][A-Za-z0-9_]*)"#)
    nonisolated(unsafe) private static let pythonImportPattern = try! NSRegularExpression(
        pattern: #"(?m)^[ \t]*import[ \t]+([A-Za-z0-9_., \t]+)"#)

    /// The import names `code` mentions, in order of first appearance.
    public static func importNames(in code: String, language: Language) -> [String] {
        let range = NSRange(code.startIndex..., in: code)
        var names: [String] = []
        func add(_ name: String) {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            if !trimmed.isEmpty, !names.contains(trimmed) { names.append(trimmed) }
        }
        func captures(_ pattern: NSRegularExpression) -> [String] {
            pattern.matches(in: code, range: range).compactMap { match in
                Range(match.range(at: 1), in: code).map { String(code[$0]) }
            }
        }
        switch language {
        case .javascript:
            captures(javascriptPattern).forEach(add)
        case .python:
            captures(pythonFromPattern).forEach(add)
            for list in captures(pythonImportPattern) {
                // `import a.b as c, d` → a, d
                for item in list.split(separator: ",") {
                    let module = item.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) ?? ""
                    add(String(module.split(separator: ".").first ?? ""))
                }
            }
        }
        return names
    }

    nonisolated(unsafe) private static let javascriptClausePattern = try! NSRegularExpression(
        pattern: #"\bimport\s+([^;'"`]*?)\s*\bfrom\s*["']([^"'\n]+)["']|\bimport\s*["']([^"'\n]+)["']"#)
    nonisolated(unsafe) private static let pythonModulePattern = try! NSRegularExpression(
        pattern: #"(?m)^[ \t]*(?:from[ \t]+([A-Za-z_][A-Za-z0-9_.]*)[ \t]+import\b|import[ \t]+([A-Za-z0-9_., \t]+))"#)

    /// What each import statement brings in, as rudder-transformer's `/extractLibs` reports it:
    /// JavaScript — module → the default import's local name and the imported names of named
    /// imports (`import d, { a, b as c } from "m"` → `m: [d, a, b]`; a namespace or bare import
    /// lists nothing); Python — module (dotted, as written) → `[]`.
    public static func importedNames(in code: String, language: Language) -> [(module: String, names: [String])] {
        let range = NSRange(code.startIndex..., in: code)
        var result: [(module: String, names: [String])] = []
        func add(_ module: String, _ names: [String]) {
            if let index = result.firstIndex(where: { $0.module == module }) {
                for name in names where !result[index].names.contains(name) { result[index].names.append(name) }
            } else {
                result.append((module, names))
            }
        }
        func capture(_ match: NSTextCheckingResult, _ group: Int) -> String? {
            Range(match.range(at: group), in: code).map { String(code[$0]) }
        }
        switch language {
        case .javascript:
            for match in javascriptClausePattern.matches(in: code, range: range) {
                if let bare = capture(match, 3) {
                    add(bare, [])
                    continue
                }
                guard let clause = capture(match, 1), let module = capture(match, 2) else { continue }
                var names: [String] = []
                let braceStart = clause.firstIndex(of: "{")
                let head = clause[..<(braceStart ?? clause.endIndex)]
                for part in head.split(separator: ",") {
                    let word = part.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !word.isEmpty, !word.hasPrefix("*") { names.append(word) }
                }
                if let braceStart, let braceEnd = clause[braceStart...].firstIndex(of: "}") {
                    for item in clause[clause.index(after: braceStart)..<braceEnd].split(separator: ",") {
                        let words = item.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" })
                        if let first = words.first { names.append(String(first).trimmingCharacters(in: CharacterSet(charactersIn: "\"'"))) }
                    }
                }
                add(module, names)
            }
        case .python:
            for match in pythonModulePattern.matches(in: code, range: range) {
                if let module = capture(match, 1) {
                    add(module, [])
                } else if let list = capture(match, 2) {
                    for item in list.split(separator: ",") {
                        if let module = item.split(whereSeparator: { $0 == " " || $0 == "\t" }).first { add(String(module), []) }
                    }
                }
            }
        }
        return result
    }

    /// The libraries `code` links, transitively, from `provider` (names it cannot find — the
    /// standard library, a missing library — are left to the compiler to accept or report).
    public static func linkedLibraries(of code: String, language: Language, from provider: any LibraryProvider) throws -> [LibrarySource] {
        var linked: [String: LibrarySource] = [:]
        var pending = importNames(in: code, language: language)
        while let name = pending.popLast() {
            guard linked[name] == nil, let library = try provider.library(importName: name, language: language) else { continue }
            linked[name] = library
            pending += importNames(in: library.code, language: language).filter { linked[$0] == nil }
        }
        return Array(linked.values)
    }
}

/// Libraries from the first provider that has them (a RudderStack project's own, then the
/// shared folder).
public struct ChainedLibraries: LibraryProvider {
    public let providers: [any LibraryProvider]
    public init(_ providers: [any LibraryProvider]) { self.providers = providers }

    public func library(importName: String, language: Language) throws -> LibrarySource? {
        for provider in providers {
            if let library = try provider.library(importName: importName, language: language) { return library }
        }
        return nil
    }
}
