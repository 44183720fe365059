import SluiceCore
import SluicePython
import Testing

@Suite struct Interpreter {
    @Test func startsIsolatedWithoutSitePackages() throws {
        #expect(PythonEngine.shared.startupError == nil)
        // The driver's own view of the interpreter, through a transformation that may not import
        // sys: the restricted importer refuses it, and site-packages are not on the path at all.
        let source = TransformationSource(name: "t", language: .python, fileName: "t.py", code: """
        import json

        def transformEvent(event, metadata):
            return {"json": json.__file__.startswith("/usr/lib/python3")}
        """)
        let compiled = try PythonEngine.shared.compile(source, libraries: NoLibraries())
        let result = PythonEngine.shared.run(compiled, batch: Batch(items: [Array("{}".utf8)]), limits: .defaults)
        guard case .output(let json)? = result.results.first?.outcome else {
            Issue.record("no output: \(result.results)")
            return
        }
        #expect(String(decoding: json, as: UTF8.self) == #"{"json":true}"#)
    }

    @Test func compilesInWellUnderTenMilliseconds() throws {
        let source = TransformationSource(name: "t", language: .python, fileName: "t.py", code: "def transformEvent(e, m):\n    return e\n")
        _ = try PythonEngine.shared.compile(source, libraries: NoLibraries())
        let start = ContinuousClock.now
        _ = try PythonEngine.shared.compile(source, libraries: NoLibraries())
        // A sanity bound, not the benchmark (sluice bench measures compile time properly).
        #expect(ContinuousClock.now - start < .seconds(1))
    }
}
