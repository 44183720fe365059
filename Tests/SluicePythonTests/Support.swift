import SluiceCore
import SluicePython
import SluiceTestSupport

func runPython(
    _ code: String, _ inputs: [String], limits: Limits = .defaults, credentials: [String: String] = [:],
    libraries: any LibraryProvider = NoLibraries(), fileName: String = "transform.py"
) throws -> BatchResult {
    try runTransformation(code, inputs, on: PythonEngine.shared, libraries: libraries, limits: limits, credentials: credentials, fileName: fileName)
}

/// The rendered lines of a Python run.
func pythonLines(_ code: String, _ inputs: [String], limits: Limits = .defaults, libraries: any LibraryProvider = NoLibraries()) throws -> [String] {
    try runPython(code, inputs, limits: limits, libraries: libraries).results.map { render($0) }
}

func pythonCompileError(_ code: String, libraries: any LibraryProvider = NoLibraries(), fileName: String = "transform.py") -> String? {
    compileMessage(code, on: PythonEngine.shared, libraries: libraries, fileName: fileName)
}
