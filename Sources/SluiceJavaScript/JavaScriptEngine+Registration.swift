import SluiceCore

extension JavaScriptEngine {
    /// JavaScript for a runtime's table of engines: one engine (one JavaScriptCore context group
    /// on its own thread) per runtime, made when the runtime first needs JavaScript.
    public static let registration = EngineRegistration(support: JavaScriptLanguage()) { JavaScriptEngine() }
}
