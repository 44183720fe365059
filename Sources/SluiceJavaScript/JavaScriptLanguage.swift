import SluiceCore

/// JavaScript's file layout and import analysis. Imports are read by the same ``ModuleRewriter``
/// (over ``ModuleLexer``'s tokens) the engine links with, so the libraries a version pins are
/// exactly those the engine asks for: an `import` inside a comment, a string or a template is
/// none, and code the rewriter refuses links nothing.
public struct JavaScriptLanguage: LanguageSupport {
    public init() {}

    public var language: Language { .javascript }

    public func libraryFileNames(importName: String) -> [String] {
        ["\(importName).js", "\(importName).mjs", "\(importName)/index.js", "\(importName)/\(importName).js"]
    }

    public func imports(in code: String) -> [ImportStatement] {
        guard let rewrite = try? ModuleRewriter(source: code) else { return [] }
        var statements = rewrite.imports.map { declaration in
            ImportStatement(module: declaration.specifier, names: declaration.bindings.compactMap { binding in
                switch binding.name {
                case "*": nil
                case "default": binding.local
                default: binding.name
                }
            })
        }
        for (_, target) in rewrite.exports {
            switch target {
            case .local: continue
            case .reexport(let specifier, let name): statements.append(ImportStatement(module: specifier, names: [name]))
            case .namespace(let specifier): statements.append(ImportStatement(module: specifier))
            }
        }
        statements += rewrite.starExports.map { ImportStatement(module: $0) }
        return statements
    }

    /// Exactly ``ModuleRewriter/requestedModules``: what ``ModuleLinker`` resolves.
    public func libraryNames(importedBy code: String) -> [String] {
        (try? ModuleRewriter(source: code))?.requestedModules ?? []
    }

    public func echoTransformation(importing library: String?) -> String {
        (library.map { "import * as tested from \(JSONString.encode($0));\n" } ?? "")
            + "export function transformEvent(event) { return event; }\n"
    }
}
