import SluiceCore

/// Wires engines, libraries and limits together for in-process use (the CLI, the test harness
/// and the package's tests): compile a transformation once, run batches through it.
///
/// A runtime holds one engine per registered language (``Engines/registrations``), each made
/// when its language is first needed: a JavaScript-only run never starts Python.
public final class Runtime: Sendable {
    /// Where `import … from "name"` looks.
    public let libraries: any LibraryProvider
    /// The registered languages' knowledge.
    public let languages: LanguageTable
    private let engines: [Language: EngineSlot]

    public init(libraries: any LibraryProvider, engines registrations: [EngineRegistration] = Engines.registrations) {
        self.libraries = libraries
        languages = LanguageTable(registrations.map(\.support))
        var engines: [Language: EngineSlot] = [:]
        for registration in registrations { engines[registration.support.language] = EngineSlot(registration) }
        self.engines = engines
    }

    /// The engine for `language` (made now if this is its first use).
    public func engine(for language: Language) throws(CompileError) -> any TransformationEngine {
        guard let slot = engines[language] else { throw CompileError("no engine for \(language.rawValue) is registered") }
        return slot.engine
    }

    /// Every registered engine, each made if it was not yet (a worker warms them all up).
    public var allEngines: [any TransformationEngine] {
        languages.languages.compactMap { engines[$0]?.engine }
    }

    /// Compiles `source` with this runtime's libraries.
    public func compile(_ source: TransformationSource) throws(CompileError) -> any CompiledTransformation {
        try engine(for: source.language).compile(source, libraries: libraries)
    }

    /// Compiles `source` with the given libraries (a version's pinned ones) instead of the runtime's.
    public func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError) -> any CompiledTransformation {
        try engine(for: source.language).compile(source, libraries: libraries)
    }

    /// Runs one batch through a transformation compiled by this runtime.
    public func run(_ transformation: any CompiledTransformation, batch: Batch, limits: Limits) -> BatchResult {
        do {
            return try engine(for: transformation.source.language).run(transformation, batch: batch, limits: limits)
        } catch {
            return BatchResult(
                results: batch.items.indices.map {
                    EventResult(inputIndex: $0, outcome: .failed(Failure(.compile, error.message)), metadata: Array("{}".utf8))
                },
                logs: []
            )
        }
    }
}
