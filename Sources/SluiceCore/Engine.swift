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
    var language: Language { get }

    /// Compiles and links `source` with the libraries it imports.
    func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError)
        -> any CompiledTransformation

    /// Runs one batch under `limits`. Never throws: every input gets at least one result.
    func run(_ transformation: any CompiledTransformation, batch: Batch, limits: Limits) -> BatchResult
}
