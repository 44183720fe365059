/// The ``LanguageSupport`` of every language an installation runs, by language: passed to
/// whatever needs per-language knowledge without an engine (the registry's library walk and
/// library folders, the tooling routes). Built once, from the runtime's engine registrations.
public struct LanguageTable: Sendable {
    private let supports: [Language: any LanguageSupport]

    /// The table of `supports` (a later one for the same language replaces an earlier one).
    public init(_ supports: [any LanguageSupport]) {
        var byLanguage: [Language: any LanguageSupport] = [:]
        for support in supports { byLanguage[support.language] = support }
        self.supports = byLanguage
    }

    /// The support for `language`, or nil when no engine for it is registered.
    public subscript(language: Language) -> (any LanguageSupport)? { supports[language] }

    /// The languages in the table, in ``Language`` order.
    public var languages: [Language] { Language.allCases.filter { supports[$0] != nil } }

    /// The libraries `source` links, transitively, from `provider`: exactly the names its
    /// engine looks up (``LanguageSupport/libraryNames(importedBy:)``), followed through every
    /// library found. Names the provider does not have (the standard library, a missing library)
    /// are left to the engine to accept or report. A legacy script imports nothing; a language
    /// without support links nothing (its compile fails).
    public func linkedLibraries(of source: TransformationSource, from provider: any LibraryProvider) throws -> [LibrarySource] {
        guard source.codeVersion == .current, let support = self[source.language] else { return [] }
        var linked: [String: LibrarySource] = [:]
        var pending = support.libraryNames(importedBy: source.code)
        while let name = pending.popLast() {
            guard linked[name] == nil, let library = try provider.library(importName: name, language: source.language) else { continue }
            linked[name] = library
            pending += support.libraryNames(importedBy: library.code).filter { linked[$0] == nil }
        }
        return Array(linked.values)
    }
}
