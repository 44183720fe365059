/// A transformation compiled by an engine: reusable for any number of batches.
public protocol CompiledTransformation: AnyObject, Sendable {
    /// The source it was compiled from.
    var source: TransformationSource { get }
    /// Whether the module defines `transformBatch` (true) or `transformEvent` (false).
    var isBatch: Bool { get }
}

/// A language engine: compiles transformations once, then runs batches through them.
///
/// Engines confine their interpreter to their own thread; these methods may be called from any
/// thread and block the caller until the engine has finished.
public protocol TransformationEngine: AnyObject, Sendable {
    /// What the engine knows about its language apart from running it (file names, imports, the
    /// probe): the same value its ``EngineRegistration`` gives the registry.
    var languageSupport: any LanguageSupport { get }

    /// Compiles and links `source` with the libraries it imports.
    func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError)
        -> any CompiledTransformation

    /// Runs one batch under `limits`. Never throws: every input gets at least one result.
    func run(_ transformation: any CompiledTransformation, batch: Batch, limits: Limits) -> BatchResult

    /// Starts the engine and loads, while files can still be opened, everything user code may
    /// use later (a worker calls it before confining itself). Returns why that failed, or nil.
    /// Default: ``runProbe()``.
    func warmUp() -> String?

    /// What the last batch changed of the state every transformation in this process shares, or
    /// nil. A change means code escaped its restrictions and the process must not run another
    /// tenant's code. Default: nil (an engine that gives every batch fresh state).
    func sharedStateChange() -> String?
}

extension TransformationEngine {
    /// The engine's language.
    public var language: Language { languageSupport.language }

    public func warmUp() -> String? { runProbe() }

    public func sharedStateChange() -> String? { nil }

    /// Compiles the language's echo transformation and runs it on one event: nil when the event
    /// came back, else what went wrong.
    public func runProbe() -> String? {
        let probe = languageSupport.echoSource(named: "warm-up")
        do {
            let compiled = try compile(probe, libraries: NoLibraries())
            let result = run(compiled, batch: Batch(items: [Array(#"{"message":{"a":1},"metadata":{}}"#.utf8)]), limits: .defaults)
            guard case .output = result.results.first?.outcome else { return "\(language) warm-up failed: \(result.results)" }
            return nil
        } catch {
            return "\(language) warm-up failed: \(error.message)"
        }
    }
}
