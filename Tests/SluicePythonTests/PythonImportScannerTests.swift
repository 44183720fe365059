import SluiceCore
import SluicePython
import Testing

@Suite struct PythonImportScannerTests {
    func modules(_ code: String) -> [String] { PythonImportScanner.imports(in: code).map(\.module) }

    @Test func importListsWithAliasesAndDots() {
        #expect(modules("import a.b as c, d\n") == ["a.b", "d"])
        #expect(modules("import json, hashing as h , url.parse\n") == ["json", "hashing", "url.parse"])
    }

    @Test func fromImportsWithParenthesesOverSeveralLines() {
        let code = """
        from x import (y,
                       z)  # a comment inside
        from a.b import (
            c as d,
            e,
        )
        from q import *
        import after
        """
        #expect(modules(code) == ["x", "a.b", "q", "after"])
        #expect(PythonImportScanner.imports(in: code).allSatisfy { $0.names.isEmpty })
    }

    @Test func commentsStringsAndDocstringsHoldNoImports() {
        let code = #"""
        """A docstring.
        import docstring
        from docstring import x
        """
        # import commented
        text = "import quoted"; other = 'from quoted import x'
        raw = r"\" import raw"
        data = b'import bytes'
        formatted = f"{1} import formatted"
        multi = '''
        import inTripleSingle
        '''
        value = 1  # from trailing import comment
        import real
        """#
        #expect(modules(code) == ["real"])
    }

    @Test func statementsAnywhere() {
        let code = """
        def transformEvent(event, metadata):
            import inside
            if event: import afterColon
            x = 1; import afterSemicolon
            try:
                from deep.er import thing
            except ImportError:
                pass
            return event
        def g():
            yield from items
            raise ValueError() from None
        value = {"import": 1, "from": 2}
        import \\
            continued
        """
        #expect(modules(code) == ["inside", "afterColon", "afterSemicolon", "deep.er", "continued"])
    }

    @Test func relativeImportsKeepTheirDotsAndAreNeverLibraries() {
        let code = "from . import sibling\nfrom ..parent import x\nfrom .mod import y\nimport lib\n"
        #expect(modules(code) == [".", "..parent", ".mod", "lib"])
        #expect(PythonLanguage().libraryNames(importedBy: code) == ["lib"])
    }

    @Test func wordsThatOnlyLookLikeImports() {
        let code = """
        important = 1
        imports = [important]
        fromage = "cheese"
        print(important, fromage)
        """
        #expect(modules(code) == [])
    }
}
