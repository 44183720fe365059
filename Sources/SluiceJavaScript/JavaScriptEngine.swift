import SluiceCore

/// The JavaScript engine: JavaScriptCore behind a dedicated thread.
///
/// One engine is one context group (one heap, one watchdog) on one thread; create one per core
/// for parallelism. Compiled transformations are bound to the engine that compiled them.
/// All methods may be called from any thread; they block until the engine thread is done.
public final class JavaScriptEngine: TransformationEngine, @unchecked Sendable {
    // @unchecked: `vm` is only touched inside `thread.sync`, which serialises all access on the
    // engine thread.
    private let thread: EngineThread
    private let vm: JavaScriptVM

    public let languageSupport: any LanguageSupport = JavaScriptLanguage()

    public init(name: String = "sluice-js") {
        let thread = EngineThread(name: name)
        self.thread = thread
        vm = thread.sync { JavaScriptVM() }
    }

    public func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError)
        -> any CompiledTransformation
    {
        let vm = self.vm
        let script = try thread.sync(throwing: { () throws(CompileError) -> CompiledScript in
            try vm.compile(source, libraries: libraries)
        })
        return JavaScriptTransformation(source: source, script: script, engine: self)
    }

    public func run(_ transformation: any CompiledTransformation, batch: Batch, limits: Limits) -> BatchResult {
        guard let compiled = transformation as? JavaScriptTransformation, compiled.engine === self else {
            preconditionFailure("a transformation can only run on the JavaScript engine that compiled it")
        }
        let vm = self.vm
        return thread.sync { vm.run(compiled.script, batch: batch, limits: limits) }
    }

    fileprivate func release(_ script: CompiledScript) {
        let box = UncheckedBox(script)
        thread.async { box.value.release() }
    }
}

/// A transformation compiled by a ``JavaScriptEngine``.
final class JavaScriptTransformation: CompiledTransformation, @unchecked Sendable {
    // @unchecked: `script` holds JavaScriptCore handles that are only used on the engine thread.
    let source: TransformationSource
    let script: CompiledScript
    let engine: JavaScriptEngine

    var isBatch: Bool { script.isBatch }

    init(source: TransformationSource, script: CompiledScript, engine: JavaScriptEngine) {
        self.source = source
        self.script = script
        self.engine = engine
    }

    deinit {
        engine.release(script)
    }
}
