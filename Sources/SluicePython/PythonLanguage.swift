import SluiceCore

/// Python's file layout and import analysis, through the one ``PythonImportScanner`` — which the
/// engine also links with, so the libraries a version pins are exactly those the engine loads.
public struct PythonLanguage: LanguageSupport {
    public init() {}

    public var language: Language { .python }

    public func libraryFileNames(importName: String) -> [String] {
        ["\(importName).py", "\(importName)/__init__.py", "\(importName)/\(importName).py"]
    }

    /// Every import statement, each module as written (dotted); none lists imported names, as
    /// rudder-transformer's `/extractLibs` reports Python.
    public func imports(in code: String) -> [ImportStatement] {
        PythonImportScanner.imports(in: code)
    }

    /// The absolute modules, as written (`import a.b` loads the library `a.b`); relative imports
    /// are refused by the engine, never looked up.
    public func libraryNames(importedBy code: String) -> [String] {
        var seen: Set<String> = []
        return imports(in: code).map(\.module).filter { !$0.hasPrefix(".") && seen.insert($0).inserted }
    }

    public func echoTransformation(importing library: String?) -> String {
        (library.map { "import \($0)\n\n" } ?? "") + "def transformEvent(event, metadata):\n    return event\n"
    }
}
