import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

/// Libraries used by the import tests.
let testLibraries = InMemoryLibraries([
    LibrarySource(importName: "math", language: .javascript, fileName: "math.js", code: """
    export const PI = 3;
    export function double(x) { return x * 2; }
    export default function triple(x) { return x * 3; }
    export { double as twice };
    """),
    LibrarySource(importName: "greet", language: .javascript, fileName: "greet.js", code: """
    import { double } from "math";
    export const greeting = (name) => "hello " + name + " " + double(2);
    export default "greet-default";
    """),
    LibrarySource(importName: "reexport", language: .javascript, fileName: "reexport.js", code: """
    export * from "math";
    export * as mathNamespace from "math";
    export { greeting as hi } from "greet";
    """),
    LibrarySource(importName: "cycleA", language: .javascript, fileName: "cycleA.js", code: "import { b } from \"cycleB\";\nexport const a = 1;"),
    LibrarySource(importName: "cycleB", language: .javascript, fileName: "cycleB.js", code: "import { a } from \"cycleA\";\nexport const b = 2;"),
    LibrarySource(importName: "thrower", language: .javascript, fileName: "thrower.js", code: """
    export function fail(message) {
      throw new Error(message);
    }
    """),
    LibrarySource(importName: "anonymousDefault", language: .javascript, fileName: "anonymousDefault.js",
                  code: "export default function (x) { return -x; }"),
])

let importRuntime = Runtime(libraries: testLibraries)

func runWithLibraries(_ code: String, _ inputs: [String] = [#"{"v":1}"#]) throws -> [String] {
    try lines(code, inputs, runtime: importRuntime)
}

@Suite struct ImportForms {
    @Test func named() throws {
        #expect(try runWithLibraries("import { PI, double } from \"math\";\nexport function transformEvent(e) { return {pi: PI, d: double(e.v)}; }")
            == [#"0 output {"pi":3,"d":2}"#])
    }

    @Test func aliased() throws {
        #expect(try runWithLibraries("import { double as dbl, twice } from 'math';\nexport function transformEvent(e) { return {d: dbl(5), t: twice(1)}; }")
            == [#"0 output {"d":10,"t":2}"#])
    }

    @Test func defaultImport() throws {
        #expect(try runWithLibraries("import triple from \"math\";\nexport function transformEvent(e) { return {t: triple(2)}; }")
            == [#"0 output {"t":6}"#])
    }

    @Test func defaultAndNamedTogether() throws {
        #expect(try runWithLibraries("import triple, { PI } from \"math\";\nexport function transformEvent(e) { return {t: triple(PI)}; }")
            == [#"0 output {"t":9}"#])
    }

    @Test func namespace() throws {
        #expect(try runWithLibraries("import * as m from \"math\";\nexport function transformEvent(e) { return {keys: Object.keys(m).sort(), d: m.double(4), def: m.default(1), frozen: Object.isFrozen(m)}; }")
            == [#"0 output {"keys":["PI","default","double","twice"],"d":8,"def":3,"frozen":true}"#])
    }

    @Test func anonymousDefaultExport() throws {
        #expect(try runWithLibraries("import negate from \"anonymousDefault\";\nexport function transformEvent(e) { return {n: negate(4)}; }")
            == [#"0 output {"n":-4}"#])
    }

    @Test func librariesImportLibraries() throws {
        #expect(try runWithLibraries("import { greeting } from \"greet\";\nimport g from \"greet\";\nexport function transformEvent(e) { return {s: greeting(\"ada\"), g}; }")
            == [#"0 output {"s":"hello ada 4","g":"greet-default"}"#])
    }

    @Test func reExports() throws {
        #expect(try runWithLibraries("import { PI, twice, hi, mathNamespace } from \"reexport\";\nexport function transformEvent(e) { return {PI, t: twice(3), h: hi(\"x\"), ns: mathNamespace.PI}; }")
            == [#"0 output {"PI":3,"t":6,"h":"hello x 4","ns":3}"#])
    }

    @Test func starReExportLeavesOutDefault() throws {
        #expect(compileError("import d from \"reexport\";\nexport function transformEvent(e) { return e; }", runtime: importRuntime)
            == "SyntaxError: import from reexport failed. 'default' is not exported by reexport (transform.js:1)")
    }

    @Test func sideEffectImport() throws {
        #expect(try runWithLibraries("import \"math\";\nexport function transformEvent(e) { return e; }") == [#"0 output {"v":1}"#])
    }

    @Test func multiLineImportKeepsLineNumbers() throws {
        let result = try runJavaScript("""
        import {
          double,
          PI
        } from "math";
        export function transformEvent(e) {
          throw new Error("line six");
        }
        """, [#"{"v":1}"#], runtime: importRuntime)
        #expect(result.results.map { render($0, fullMessages: true) } == ["0 exception: Error: line six\n    at transformEvent (transform.js:6:18)"])
    }

    @Test func exportedDeclarationForms() throws {
        let code = """
        export const a = 1, b = [2, 3], { c, d: [dd] } = { c: 4, d: [5] };
        export let e = (x, y) => x + y
        export var f = { g: 1 }
        export class Box { constructor(v) { this.v = v; } }
        export async function later() { return 1; }
        export function* gen() { yield 1; }
        function transformEvent(event) { return { a, b, c, dd, e: e(1, 2), f, box: new Box(7).v, gen: [...gen()] }; }
        export { transformEvent }
        """
        #expect(try runWithLibraries(code) == [#"0 output {"a":1,"b":[2,3],"c":4,"dd":5,"e":3,"f":{"g":1},"box":7,"gen":[1]}"#])
    }
}

@Suite struct ImportFailures {
    @Test func missingLibrary() {
        #expect(compileError("import { x } from \"nowhere\";\nexport function transformEvent(e) { return e; }", runtime: importRuntime)
            == "import from nowhere failed. Module not found. (imported by transform.js)")
    }

    @Test func missingLibraryOfALibrary() {
        let runtime = Runtime(libraries: InMemoryLibraries([
            LibrarySource(importName: "outer", language: .javascript, fileName: "outer.js", code: "import \"inner\";\nexport const o = 1;"),
        ]))
        #expect(compileError("import { o } from \"outer\";\nexport function transformEvent(e) { return e; }", runtime: runtime)
            == "import from inner failed. Module not found. (imported by outer.js)")
    }

    @Test func cycle() {
        #expect(compileError("import { a } from \"cycleA\";\nexport function transformEvent(e) { return e; }", runtime: importRuntime)
            == "import from cycleA failed. Import cycle: cycleA → cycleB → cycleA")
    }

    @Test func missingExportName() {
        #expect(compileError("import { nope } from \"math\";\nexport function transformEvent(e) { return e; }", runtime: importRuntime)
            == "SyntaxError: import from math failed. 'nope' is not exported by math (transform.js:1)")
    }

    @Test func dynamicImportIsRefused() {
        #expect(compileError("export async function transformEvent(e) { const m = await import(\"math\"); return e; }", runtime: importRuntime)
            == "SyntaxError: dynamic import() is not supported: import libraries with a static `import … from \"name\"` declaration (transform.js:1:59)")
    }

    @Test func libraryFramesAreNamedAfterTheLibrary() throws {
        let result = try runJavaScript("""
        import { fail } from "thrower";
        export function transformEvent(e) {
          const result = fail("from library");
          return result;
        }
        """, [#"{"v":1}"#], runtime: importRuntime)
        #expect(result.results.map { render($0, fullMessages: true) } == [
            "0 exception: Error: from library\n    at fail (thrower.js:2:18)\n    at transformEvent (transform.js:3:22)",
        ])
    }

    @Test func syntaxErrorsReportTheUsersLineAndColumn() {
        #expect(compileError("export function transformEvent(e) {\n  const x = ;\n  return e;\n}")
            == "SyntaxError: Unexpected token ';' (transform.js:2:13)")
    }

    @Test func syntaxErrorsInLibrariesNameTheLibrary() {
        let runtime = Runtime(libraries: InMemoryLibraries([
            LibrarySource(importName: "broken", language: .javascript, fileName: "broken.js", code: "export const x = {;\n"),
        ]))
        #expect(compileError("import { x } from \"broken\";\nexport function transformEvent(e) { return e; }", runtime: runtime)?
            .hasSuffix("(broken.js:1:19)") == true)
    }
}

/// The rewrite must not be fooled by `import`/`export` that are not declarations.
@Suite struct TrickySources {
    @Test func importAndExportInsideStringsTemplatesCommentsAndRegexes() throws {
        let code = #"""
        // import { nope } from "nowhere";
        /* export function transformBatch() {}
           import x from "nowhere" */
        const single = 'import { a } from "nowhere"';
        const double = "export default 1; import b from 'nowhere'";
        const template = `line
        import { c } from "nowhere"
        ${ "export const d = 1" + `nested ${ '}' } import e from "x"` } export default 2`;
        const regex = /import\s+\{?\s*[a-z]+\s*\}?\s+from\s+["']nowhere["']/g;
        const klass = /[/]export [*]/;
        const ratio = 10 / 2 / 5;
        const obj = { import: 1, export: 2 };
        const member = obj.import + obj.export;
        export function transformEvent(event) {
          return { single, double, template, regex: regex.source.length, klass: klass.test("/export *"), ratio, member };
        }
        """#
        let result = try runJavaScript(code, [#"{"v":1}"#])
        guard case .output(let json)? = result.results.first?.outcome else {
            Issue.record("expected an output, got \(result.results.map { render($0, fullMessages: true) })")
            return
        }
        let text = String(decoding: json, as: UTF8.self)
        #expect(text.contains(#""single":"import { a } from \"nowhere\"""#))
        #expect(text.contains(#""double":"export default 1; import b from 'nowhere'""#))
        #expect(text.contains(#"import { c } from \"nowhere\"\nexport const d = 1nested } import e from \"x\" export default 2"#))
        #expect(text.contains(#""klass":true,"ratio":1,"member":3"#))
    }

    @Test func regexAfterKeywordsAndDivisionAfterValues() throws {
        let code = """
        function f(x) { return /export \\{/.test(x) ? 1 : 0; }
        const a = 4, b = 2, g = 1;
        const value = a / b / g;
        const afterParen = (a) / 2;
        export function transformEvent(e) { return { f: f("export {"), value, afterParen }; }
        """
        #expect(try lines(code, [#"{"v":1}"#]) == [#"0 output {"f":1,"value":2,"afterParen":2}"#])
    }

    @Test func exportDefaultExpressionKeepsColumns() throws {
        let code = "const helper = 1;\nexport default function transformEvent(e) { return e; }\nexport { transformEvent };"
        // `export default function name` binds `name` locally, so it can also be exported by name.
        #expect(try lines(code, [#"{"v":1}"#]) == [#"0 output {"v":1}"#])
    }

    @Test func regexAfterTheHeadOfIfWhileAndFor() throws {
        let code = "export function transformEvent(e) { let n = 0; if (e.s) /`/.test(e.s) && n++; while (false) /'/; for (;false;) /\"/; return {n}; }"
        #expect(try lines(code, [#"{"s":"a`b"}"#]) == [#"0 output {"n":1}"#])
    }

    @Test func lineContinuationWithCRLFInAString() throws {
        let code = "const s = 'a\\\r\nb';\r\nexport function transformEvent(e) { return {s}; }\r\n"
        #expect(try lines(code, ["{}"]) == [#"0 output {"s":"ab"}"#])
    }

    @Test func exportAndDefaultOnSeparateLines() throws {
        let code = "export\ndefault 5;\nexport function transformEvent(e) { return {v: 1}; }\nexport const later = 2;"
        #expect(try lines(code, ["{}"]) == [#"0 output {"v":1}"#])
    }

    @Test func anonymousDefaultFunctionIsADeclaration() throws {
        let runtime = Runtime(libraries: InMemoryLibraries([
            LibrarySource(importName: "anon", language: .javascript, fileName: "anon.js", code: "export default function () { return 1 }\n[1, 2].forEach(() => {});\nexport default2 = 0;".replacingOccurrences(of: "export default2 = 0;", with: "")),
            LibrarySource(importName: "anonClass", language: .javascript, fileName: "anonClass.js", code: "class Base { v() { return 7; } }\nexport default class extends Base {}\n(function () {})();"),
        ]))
        let code = "import f from \"anon\";\nimport K from \"anonClass\";\nexport function transformEvent(e) { return {f: f(), k: new K().v()}; }"
        #expect(try lines(code, ["{}"], runtime: runtime) == [#"0 output {"f":1,"k":7}"#])
    }

    @Test func shadowingObjectDoesNotBreakTheModule() throws {
        let code = "const Object = { freeze: 1 };\nexport function transformEvent(e) { return {ok: Object.freeze}; }"
        #expect(try lines(code, ["{}"]) == [#"0 output {"ok":1}"#])
    }

    @Test func stringImportNames() throws {
        let runtime = Runtime(libraries: InMemoryLibraries([
            LibrarySource(importName: "odd", language: .javascript, fileName: "odd.js",
                          code: "const v = 5;\nexport { v as \"odd name\" };"),
        ]))
        #expect(try lines("import { \"odd name\" as v } from \"odd\";\nexport function transformEvent(e) { return {v}; }", [#"{"v":1}"#], runtime: runtime)
            == [#"0 output {"v":5}"#])
    }
}
