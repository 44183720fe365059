/// One import statement as a language's own scanner reads it (comments and strings are never
/// mistaken for one).
public struct ImportStatement: Sendable, Hashable {
    /// The module as written: a JavaScript specifier (`"hashing"`, `"@rs/lib/v1"`), a Python
    /// module (`"a.b"`; relative ones keep their dots, `".sibling"`).
    public var module: String
    /// The names the statement imports, as rudder-transformer's `/extractLibs` lists them:
    /// JavaScript — the default import's local name and the imported (not local) name of each
    /// named import or re-export; a namespace or bare import lists none. Python lists none.
    public var names: [String]

    public init(module: String, names: [String] = []) {
        self.module = module
        self.names = names
    }
}

/// What Sluice knows about one language apart from running it — its syntax and file layout —
/// available without starting an engine, so the registry can pin libraries and the server can
/// answer tooling routes with exactly the analysis the engine links with.
///
/// Each engine module provides its conformance (``EngineRegistration/support``); a
/// ``LanguageTable`` holds them by language.
public protocol LanguageSupport: Sendable {
    var language: Language { get }

    /// The files a library folder is searched for, in order, for a library imported as
    /// `importName` (paths relative to the folder, e.g. `hashing.js`, `hashing/index.js`).
    func libraryFileNames(importName: String) -> [String]

    /// Every static import statement of `code`, in source order. Code the engine's own analysis
    /// cannot read yields what the engine would link from it: nothing.
    func imports(in code: String) -> [ImportStatement]

    /// The names the engine asks its ``LibraryProvider`` for when it links `code`, in order of
    /// first appearance, without duplicates. Default: the module of every import statement.
    func libraryNames(importedBy code: String) -> [String]

    /// A transformation that returns every event unchanged and, when `library` is given, imports
    /// it (so the library's top level runs): the worker's warm-up probe and the library test.
    func echoTransformation(importing library: String?) -> String
}

extension LanguageSupport {
    public func libraryNames(importedBy code: String) -> [String] {
        var seen: Set<String> = []
        return imports(in: code).map(\.module).filter { seen.insert($0).inserted }
    }

    /// A source of ``echoTransformation(importing:)`` named `name`, in a file `<name>.<extension>`.
    public func echoSource(named name: String, importing library: String? = nil) -> TransformationSource {
        TransformationSource(name: name, language: language, fileName: "\(name).\(language.fileExtension)",
                             code: echoTransformation(importing: library))
    }
}
