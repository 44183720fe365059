import SluiceCore

extension PythonEngine {
    /// Python for a runtime's table of engines: the process's one interpreter (``shared``),
    /// started when a runtime first needs Python.
    public static let registration = EngineRegistration(support: PythonLanguage()) { PythonEngine.shared }
}
