import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTestSupport
import Testing

/// A version pins exactly the libraries its engine links: the registry's walk and the engine's
/// linking read imports with the same analysis.
@Suite struct PinnedLibrariesTests {
    /// Records which libraries an engine found while linking.
    final class RecordingLibraries: LibraryProvider, @unchecked Sendable {
        // @unchecked: `found` is guarded by `lock`.
        private let libraries: InMemoryLibraries
        private let lock = NSLock()
        private var found: Set<String> = []
        init(_ libraries: [LibrarySource]) { self.libraries = InMemoryLibraries(libraries) }

        func library(importName: String, language: Language) throws -> LibrarySource? {
            let library = try libraries.library(importName: importName, language: language)
            if library != nil {
                lock.lock()
                found.insert(importName)
                lock.unlock()
            }
            return library
        }

        var names: [String] {
            lock.lock()
            defer { lock.unlock() }
            return found.sorted()
        }
    }

    func pinnedAndLinked(_ source: TransformationSource, _ libraries: [LibrarySource]) throws -> (pinned: [String], linked: [String]) {
        let version = try TransformationVersion.linking(source, from: InMemoryLibraries(libraries), languages: Engines.languages, origin: "test")
        let recording = RecordingLibraries(libraries)
        _ = try sharedRuntime.compile(source, libraries: recording)
        // The pinned libraries alone are enough to compile it.
        _ = try sharedRuntime.compile(source, libraries: version.libraryProvider)
        return (version.libraries.map(\.importName).sorted(), recording.names)
    }

    @Test func javascriptACommentedOutImportPinsNothing() throws {
        let source = TransformationSource(name: "t", language: .javascript, fileName: "transform.js", code: """
        // import { old } from "retired";
        /* import { older } from "ancient"; */
        import { tag } from "tagger";
        const note = "import x from 'quoted'";
        export function transformEvent(event) { event.tag = tag(); return event; }
        """)
        let libraries = [
            LibrarySource(importName: "tagger", language: .javascript, fileName: "tagger.js",
                          code: "// import { y } from \"ancient\";\nimport { base } from \"base\";\nexport function tag() { return base; }"),
            LibrarySource(importName: "base", language: .javascript, fileName: "base.js", code: "export const base = 1;"),
            LibrarySource(importName: "retired", language: .javascript, fileName: "retired.js", code: "export const old = 1;"),
            LibrarySource(importName: "ancient", language: .javascript, fileName: "ancient.js", code: "export const older = 1, y = 2;"),
            LibrarySource(importName: "quoted", language: .javascript, fileName: "quoted.js", code: "export default 1;"),
        ]
        let (pinned, linked) = try pinnedAndLinked(source, libraries)
        #expect(pinned == ["base", "tagger"])
        #expect(linked == pinned)
    }

    @Test func pythonACommentedOutImportPinsNothing() throws {
        let source = TransformationSource(name: "t", language: .python, fileName: "transform.py", code: """
        \"\"\"Uses tagger.
        import retired
        \"\"\"
        # from ancient import older
        import json
        from tagger import tag

        def transformEvent(event, metadata):
            event["tag"] = tag()
            return event

        def later():
            import helpers.extra  # the library named helpers.extra, as the engine's importer looks it up
            return helpers
        """)
        let libraries = [
            LibrarySource(importName: "tagger", language: .python, fileName: "tagger.py",
                          code: "# import ancient\nfrom base import BASE\n\ndef tag():\n    return BASE\n"),
            LibrarySource(importName: "base", language: .python, fileName: "base.py", code: "BASE = 1\n"),
            LibrarySource(importName: "helpers.extra", language: .python, fileName: "helpers.extra.py", code: "VALUE = 2\n"),
            LibrarySource(importName: "helpers", language: .python, fileName: "helpers.py", code: "VALUE = 3\n"),
            LibrarySource(importName: "retired", language: .python, fileName: "retired.py", code: "X = 1\n"),
            LibrarySource(importName: "ancient", language: .python, fileName: "ancient.py", code: "older = 1\n"),
        ]
        let (pinned, linked) = try pinnedAndLinked(source, libraries)
        #expect(pinned == ["base", "helpers.extra", "tagger"])
        #expect(linked == pinned)
        let compiled = try sharedRuntime.compile(source, libraries: InMemoryLibraries(libraries))
        let result = sharedRuntime.run(compiled, batch: Batch(items: [Array(#"{"message":{},"metadata":{}}"#.utf8)]), limits: .defaults)
        #expect(result.results.map { render($0) } == [#"0 output {"tag":1}"#])
    }

    @Test func aLegacyScriptPinsNothing() throws {
        let source = TransformationSource(name: "t", language: .javascript, fileName: "transform.js",
                                          code: "// import { x } from \"lib\";\nfunction transform(events) { return events; }", codeVersion: .legacy)
        let libraries = [LibrarySource(importName: "lib", language: .javascript, fileName: "lib.js", code: "export const x = 1;")]
        #expect(try pinnedAndLinked(source, libraries) == ([], []))
    }
}
