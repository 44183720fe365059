import SluiceCore
import SluicePython
import SluiceRegistry
import Testing

@Suite struct LibraryLinkingTests {
    func source(_ code: String, _ language: Language = .javascript) -> TransformationSource {
        TransformationSource(name: "t", language: language, fileName: "transform.\(language.fileExtension)", code: code)
    }

    @Test func librariesAreLinkedTransitivelyAndTheStandardLibraryIsLeftAlone() throws {
        let libraries = InMemoryLibraries([
            LibrarySource(importName: "outer", language: .javascript, fileName: "outer.js", code: #"import { x } from "inner"; export const y = x;"#),
            LibrarySource(importName: "inner", language: .javascript, fileName: "inner.js", code: "export const x = 1;"),
            LibrarySource(importName: "unused", language: .javascript, fileName: "unused.js", code: "export const z = 1;"),
        ])
        let linked = try languages.linkedLibraries(of: source(#"import { y } from "outer"; import m from "missing";"#), from: libraries)
        #expect(linked.map(\.importName).sorted() == ["inner", "outer"])
    }

    @Test func aCommentedOutImportChangesNoVersion() throws {
        let libraries = InMemoryLibraries([
            LibrarySource(importName: "kept", language: .javascript, fileName: "kept.js", code: "export const k = 1;"),
            LibrarySource(importName: "dropped", language: .javascript, fileName: "dropped.js", code: "export const d = 1;"),
        ])
        let code = #"import { k } from "kept"; export function transformEvent(e) { return e; }"#
        let plain = try TransformationVersion.linking(source(code), from: libraries, languages: languages, origin: "test")
        let commented = try TransformationVersion.linking(source("// import { d } from \"dropped\";\n" + code), from: libraries,
                                                          languages: languages, origin: "test")
        #expect(plain.libraries.map(\.importName) == ["kept"])
        #expect(commented.libraries == plain.libraries)
    }

    @Test func pythonLinksDottedModulesAsWrittenAndNeverRelativeOnes() throws {
        let libraries = InMemoryLibraries([
            LibrarySource(importName: "a.b", language: .python, fileName: "a.b.py", code: "import c  # import d\n"),
            LibrarySource(importName: "a", language: .python, fileName: "a.py", code: ""),
            LibrarySource(importName: "c", language: .python, fileName: "c.py", code: ""),
            LibrarySource(importName: "d", language: .python, fileName: "d.py", code: ""),
        ])
        let linked = try languages.linkedLibraries(of: source("import a.b as alias\nfrom . import d\n", .python), from: libraries)
        #expect(linked.map(\.importName).sorted() == ["a.b", "c"])
    }

    @Test func aLanguageWithoutSupportLinksNothing() throws {
        let onlyPython = LanguageTable([PythonLanguage()])
        #expect(onlyPython[.javascript] == nil)
        let libraries = InMemoryLibraries([LibrarySource(importName: "x", language: .javascript, fileName: "x.js", code: "")])
        #expect(try onlyPython.linkedLibraries(of: source(#"import "x";"#), from: libraries).isEmpty)
    }
}
