import SluiceCore
import SluiceRegistry
import SluiceJavaScript
import SluicePython

/// Wires engines, libraries and limits together for in-process use (the CLI, the test harness
/// and the package's tests): compile a transformation once, run batches through it.
public final class Runtime: Sendable {
    /// Where `import … from "name"` looks.
    public let libraries: any LibraryProvider
    private let javascript: JavaScriptEngine

    public init(libraries: any LibraryProvider) {
        self.libraries = libraries
        javascript = JavaScriptEngine()
    }

    /// The engine for `language`.
    public func engine(for language: Language) throws(CompileError) -> any TransformationEngine {
        switch language {
        case .javascript:
            return javascript
        case .python:
            return PythonEngine.shared
        }
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
