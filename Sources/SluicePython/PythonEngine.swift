import CPythonSupport
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// The Python engine: embedded CPython 3.11 behind a dedicated thread.
///
/// CPython has one main interpreter per process, so there is one engine: ``shared``. All methods
/// may be called from any thread; they block until the interpreter thread is done.
public final class PythonEngine: TransformationEngine, @unchecked Sendable {
    // @unchecked: `interpreter` is only touched inside `thread.sync`.
    private let thread: EngineThread
    private let interpreter: PythonInterpreter

    public let languageSupport: any LanguageSupport = PythonLanguage()

    /// The process's Python engine, started on first use.
    public static let shared = PythonEngine()

    private init() {
        let thread = EngineThread(name: "sluice-python")
        self.thread = thread
        interpreter = thread.sync { PythonInterpreter() }
        let target = thread.threadID
        let signalNumber = sluice_deadline_signal()
        DeadlineTicker.start(thread: target, signal: signalNumber)
    }

    /// Why the interpreter could not start, if it could not.
    public var startupError: String? { interpreter.startupError }

    /// Imports every standard-library module transformations may import, so later imports need
    /// no file access (a confined worker can no longer open files). Returns why it failed, or nil.
    public func preloadAllowedModules() -> String? {
        let interpreter = self.interpreter
        return thread.sync { interpreter.preloadAllowedModules() }
    }

    /// Starts the interpreter, imports every standard-library module transformations may import
    /// (``preloadAllowedModules()``) and runs the probe; returns why that failed, or nil.
    public func warmUp() -> String? {
        if let problem = startupError ?? preloadAllowedModules() { return "Python: \(problem)" }
        return runProbe()
    }

    /// What changed of the namespaces, classes and functions every transformation shares (the
    /// allowed modules', builtins', the driver's) since ``preloadAllowedModules()`` recorded them,
    /// or nil. A change means code escaped its restrictions: the process must not run another
    /// tenant's code. Always nil when ``preloadAllowedModules()`` was never called.
    public func sharedStateChange() -> String? {
        let interpreter = self.interpreter
        return thread.sync { interpreter.sharedStateChange() }
    }

    public func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError)
        -> any CompiledTransformation
    {
        guard source.codeVersion == .current else {
            throw CompileError("\(source.fileName): codeVersion \"0\" (a legacy transform(events) script) is JavaScript only; Python transformations define transformEvent or transformBatch")
        }
        let interpreter = self.interpreter
        let handle = try thread.sync(throwing: { () throws(CompileError) -> PythonObject in
            try interpreter.compile(source, libraries: libraries)
        })
        return PythonTransformation(source: source, handle: handle, engine: self, isBatch: handle.isBatch)
    }

    public func run(_ transformation: any CompiledTransformation, batch: Batch, limits: Limits) -> BatchResult {
        guard let compiled = transformation as? PythonTransformation, compiled.engine === self else {
            preconditionFailure("a transformation can only run on the engine that compiled it")
        }
        let interpreter = self.interpreter
        return thread.sync { interpreter.run(compiled.handle, name: compiled.source.name, batch: batch, limits: limits) }
    }

    fileprivate func release(_ handle: PythonObject) {
        let box = UncheckedBox(handle)
        thread.async { box.value.release() }
    }
}

/// A transformation compiled by the ``PythonEngine``.
final class PythonTransformation: CompiledTransformation, @unchecked Sendable {
    // @unchecked: `handle` is a Python object only used on the interpreter thread.
    let source: TransformationSource
    let handle: PythonObject
    let engine: PythonEngine
    let isBatch: Bool

    init(source: TransformationSource, handle: PythonObject, engine: PythonEngine, isBatch: Bool) {
        self.source = source
        self.handle = handle
        self.engine = engine
        self.isBatch = isBatch
    }

    deinit {
        engine.release(handle)
    }
}

/// A strong reference to a Python object; released explicitly on the interpreter thread.
final class PythonObject {
    let pointer: OpaquePointer
    var isBatch = false

    init(_ pointer: OpaquePointer) {
        self.pointer = pointer
    }

    func release() {
        sluice_decref(pointer)
    }
}

/// Signals the interpreter thread while the running call is past its deadline. CPython runs the
/// driver's handler at the next bytecode boundary, and the signal interrupts blocking calls
/// (`time.sleep`) and the regular-expression engine.
enum DeadlineTicker {
    static func start(thread: pthread_t, signal: Int32) {
        startThread {
            while true {
                usleep(5_000)
                if sluice_deadline_passed() != 0 { pthread_kill(thread, signal) }
            }
        }
    }
}
