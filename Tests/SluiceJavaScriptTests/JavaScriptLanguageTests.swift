import SluiceCore
import SluiceJavaScript
import Testing

@Suite struct JavaScriptLanguageTests {
    let support = JavaScriptLanguage()

    @Test func findsEveryStaticImportForm() {
        let code = """
        import { a, b as c } from "named";
        import d from 'default';
        import * as ns from "namespace"
        import e, { f } from "both";
        import g, * as all from "defaultAndNamespace";
        import "bare";
        import {
          h,
          i as j,
        } from
          "multiLine";
        export { k } from "reexported";
        export * from "star";
        export * as namespaced from "starAs";
        export function transformEvent(event) { return event; }
        """
        #expect(support.libraryNames(importedBy: code) == [
            "named", "default", "namespace", "both", "defaultAndNamespace", "bare", "multiLine", "star", "reexported", "starAs",
        ])
        let statements = support.imports(in: code)
        #expect(statements.map(\.module) == [
            "named", "default", "namespace", "both", "defaultAndNamespace", "bare", "multiLine", "reexported", "starAs", "star",
        ])
        #expect(statements.map(\.names) == [["a", "b"], ["d"], [], ["e", "f"], ["g"], [], ["h", "i"], ["k"], [], []])
    }

    @Test func importsInCommentsStringsTemplatesAndRegularExpressionsAreNone() {
        let code = """
        // import { x } from "lineComment";
        /* import { y } from "blockComment";
           export * from "blockComment2"; */
        const text = 'import z from "singleQuoted"';
        const other = "export * from 'doubleQuoted'";
        const template = `
        import t from "template";
        ${"import u from 'substitution'"}
        `;
        const pattern = /import v from "regex"/;
        function f() { const s = "from 'inside'"; return s; }
        import { real } from "real";
        export function transformEvent(event) { return event; }
        """
        #expect(support.libraryNames(importedBy: code) == ["real"])
        #expect(support.imports(in: code) == [ImportStatement(module: "real", names: ["real"])])
    }

    @Test func codeTheEngineCannotLinkLinksNothing() {
        // The linker refuses dynamic import(): nothing is linked, so nothing is pinned.
        let code = #"import { a } from "a"; export async function transformEvent(e) { return import("b"); }"#
        #expect(support.libraryNames(importedBy: code) == [])
        #expect(support.imports(in: "import { a } from \"unterminated") == [])
    }

    @Test func theEchoTransformationRunsAndImportsTheLibrary() {
        let engine = JavaScriptEngine()
        #expect(engine.runProbe() == nil)
        let library = LibrarySource(importName: "loud", language: .javascript, fileName: "loud.js", code: "throw new Error('top level ran');")
        var outcome = ""
        do {
            let compiled = try engine.compile(support.echoSource(named: "probe", importing: "loud"), libraries: InMemoryLibraries([library]))
            outcome = "\(engine.run(compiled, batch: Batch(items: [Array("{}".utf8)]), limits: .defaults).results)"
        } catch {
            outcome = error.message
        }
        #expect(outcome.contains("top level ran"))
    }
}
