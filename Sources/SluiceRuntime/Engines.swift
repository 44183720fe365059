import SluiceCore
import SluiceJavaScript
import SluicePython

/// The languages Sluice runs: the one place an engine is registered. A new language is its engine
/// module (a ``TransformationEngine`` and its ``LanguageSupport``, offered as an
/// ``EngineRegistration``), one line here and its `Language` case — see this module's README,
/// "Adding a language".
public enum Engines {
    /// Every engine, in ``Language`` order.
    public static let registrations: [EngineRegistration] = [
        JavaScriptEngine.registration,
        PythonEngine.registration,
    ]

    /// The registered languages' knowledge (file names, imports), for the registry and the
    /// tooling routes, which need it without an engine.
    public static let languages = LanguageTable(registrations.map(\.support))
}
