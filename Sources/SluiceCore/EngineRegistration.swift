/// How a runtime gets one language's engine: the language's knowledge, usable without starting
/// anything, and a factory called when the language is first needed. Each engine module offers
/// its registration; the runtime lists them in one place.
public struct EngineRegistration: Sendable {
    public let support: any LanguageSupport
    /// Makes (or returns the process's) engine; called at most once per runtime.
    public let makeEngine: @Sendable () -> any TransformationEngine

    public init(support: any LanguageSupport, makeEngine: @escaping @Sendable () -> any TransformationEngine) {
        self.support = support
        self.makeEngine = makeEngine
    }
}
