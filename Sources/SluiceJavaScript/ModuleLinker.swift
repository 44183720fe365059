import SluiceCore

/// Resolves a transformation's imports through a ``LibraryProvider``, rewrites every module with
/// ``ModuleRewriter`` and produces one factory function per module, in evaluation order.
///
/// A factory is `(function(freeze, ns0, ns1, …) { "use strict"; <import bindings>\n<body>\n return <namespace> })`:
/// its first line holds the bindings, so the user's line N is the factory's line N + 1
/// (``headerLines``). Calling the factories in order, each with the namespaces of the modules
/// it imports, evaluates a fresh instance of the module graph.
struct ModuleLinker {
    /// Lines the factory adds before the user's first line.
    static let headerLines = 1

    struct LinkedModule {
        /// The name shown in stack traces: the transformation's or library's file name.
        var fileName: String
        /// The import name for libraries; nil for the transformation.
        var importName: String?
        /// The factory's source text.
        var factorySource: String
        /// Indices (into ``LinkedProgram/modules``) of the modules passed as the factory's arguments.
        var dependencies: [Int]
        /// The names the module exports.
        var exportNames: [String]
        /// The original code (for syntax checking with exact positions).
        var originalCode: String
    }

    struct LinkedProgram {
        /// Every module in evaluation order; the transformation is last.
        var modules: [LinkedModule]
        /// Exported names of the transformation module.
        var entryExports: [String]
    }

    private let libraries: any LibraryProvider
    private let checkSyntax: (String, String) throws(CompileError) -> Void
    private var modules: [LinkedModule] = []
    private var indexByImportName: [String: Int] = [:]

    init(libraries: any LibraryProvider, checkSyntax: @escaping (String, String) throws(CompileError) -> Void) {
        self.libraries = libraries
        self.checkSyntax = checkSyntax
    }

    /// Links `source` and everything it imports. `checkSyntax(code, fileName)` validates each
    /// module's original text first, so syntax errors come from the engine's own parser.
    static func link(
        _ source: TransformationSource, libraries: any LibraryProvider,
        checkSyntax: @escaping (String, String) throws(CompileError) -> Void = { _, _ in }
    ) throws(CompileError) -> LinkedProgram {
        var linker = ModuleLinker(libraries: libraries, checkSyntax: checkSyntax)
        let entry = try linker.add(
            code: source.code, fileName: source.fileName, importName: nil, importChain: []
        )
        return LinkedProgram(modules: linker.modules, entryExports: linker.modules[entry].exportNames)
    }

    /// A legacy (`codeVersion` "0") transformation: a classic script, no imports, that defines a
    /// global `transform`. Its factory is `(function(freeze) {\n<script>\n;return {transform} })`:
    /// not strict unless the script says so (a classic script's rules), the same single header
    /// line as a module's, and a fresh instance per evaluation as for modules.
    static func linkLegacy(
        _ source: TransformationSource, checkSyntax: (String, String) throws(CompileError) -> Void
    ) throws(CompileError) -> LinkedProgram {
        try checkSyntax(source.code, source.fileName)
        let factory = "(function (__sluice_freeze) {\n" + source.code
            + "\n;return __sluice_freeze({__proto__:null,get transform(){return typeof transform===\"function\"?transform:undefined;}});})"
        let module = LinkedModule(fileName: source.fileName, importName: nil, factorySource: factory, dependencies: [],
                                  exportNames: ["transform"], originalCode: source.code)
        return LinkedProgram(modules: [module], entryExports: ["transform"])
    }

    /// Rewrites and adds one module after its dependencies; returns its index.
    private mutating func add(code: String, fileName: String, importName: String?, importChain: [String]) throws(CompileError) -> Int {
        try checkSyntax(code, fileName)
        let rewrite: ModuleRewriter
        do {
            rewrite = try ModuleRewriter(source: code)
        } catch {
            throw CompileError("SyntaxError: \(error.message) (\(fileName):\(error.line):\(error.column))")
        }

        var dependencyIndex: [String: Int] = [:]
        var dependencies: [Int] = []
        for specifier in rewrite.requestedModules {
            if let index = indexByImportName[specifier] {
                dependencyIndex[specifier] = index
            } else {
                let chain = importChain + [importName ?? fileName]
                if chain.contains(specifier) {
                    let cycle = (chain.drop(while: { $0 != specifier }) + [specifier]).joined(separator: " → ")
                    throw CompileError("import from \(specifier) failed. Import cycle: \(cycle)")
                }
                let library: LibrarySource?
                do {
                    library = try libraries.library(importName: specifier, language: .javascript)
                } catch {
                    throw CompileError("import from \(specifier) failed. \(error)")
                }
                guard let library else {
                    throw CompileError("import from \(specifier) failed. Module not found."
                        + libraries.missingLibraryContext(importedBy: fileName))
                }
                let index = try add(
                    code: library.code, fileName: library.fileName, importName: specifier, importChain: chain
                )
                dependencyIndex[specifier] = index
            }
            dependencies.append(dependencyIndex[specifier]!)
        }
        func parameter(_ specifier: String) -> String {
            "__sluice_m\(rewrite.requestedModules.firstIndex(of: specifier)!)"
        }

        // Check imported names against the libraries' exports, now that they are linked.
        for declaration in rewrite.imports {
            let exported = Set(modules[dependencyIndex[declaration.specifier]!].exportNames)
            for binding in declaration.bindings where binding.name != "*" && !exported.contains(binding.name) {
                throw CompileError(
                    "SyntaxError: import from \(declaration.specifier) failed. '\(binding.name)' is not exported by \(declaration.specifier) (\(fileName):\(declaration.line))"
                )
            }
        }

        // Exports: own, re-exported, and star re-exports (all but default, own names win).
        var exportGetters: [(name: String, expression: String)] = []
        for (name, target) in rewrite.exports {
            switch target {
            case .local(let local):
                exportGetters.append((name, local))
            case .reexport(let specifier, let exportedName):
                let exported = modules[dependencyIndex[specifier]!].exportNames
                guard exported.contains(exportedName) else {
                    throw CompileError("SyntaxError: export from \(specifier) failed. '\(exportedName)' is not exported by \(specifier) (\(fileName))")
                }
                exportGetters.append((name, "\(parameter(specifier))[\(JSONString.encode(exportedName))]"))
            case .namespace(let specifier):
                exportGetters.append((name, parameter(specifier)))
            }
        }
        for specifier in rewrite.starExports {
            for name in modules[dependencyIndex[specifier]!].exportNames
            where name != "default" && !exportGetters.contains(where: { $0.name == name }) {
                exportGetters.append((name, "\(parameter(specifier))[\(JSONString.encode(name))]"))
            }
        }

        // The first parameter is Object.freeze, passed in: user code may shadow `Object`.
        var header = "(function(__sluice_freeze"
        header += rewrite.requestedModules.indices.map { ",__sluice_m\($0)" }.joined()
        header += "){\"use strict\";"
        for declaration in rewrite.imports {
            let namespace = parameter(declaration.specifier)
            for binding in declaration.bindings {
                if binding.name == "*" {
                    header += "const \(binding.local)=\(namespace);"
                } else {
                    header += "const \(binding.local)=\(namespace)[\(JSONString.encode(binding.name))];"
                }
            }
        }
        if rewrite.declaresDefaultBinding { header += "let \(ModuleRewriter.defaultBinding);" }
        var footer = "\n;return __sluice_freeze({__proto__:null"
        for getter in exportGetters {
            footer += ",get \(JSONString.encode(getter.name))(){return \(getter.expression);}"
        }
        footer += "});})"

        modules.append(LinkedModule(
            fileName: fileName,
            importName: importName,
            factorySource: header + "\n" + rewrite.body + footer,
            dependencies: dependencies,
            exportNames: exportGetters.map(\.name),
            originalCode: code
        ))
        let index = modules.count - 1
        if let importName { indexByImportName[importName] = index }
        return index
    }
}
