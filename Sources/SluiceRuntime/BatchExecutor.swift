#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceRegistry
import SluiceSandbox

/// Where user code runs: the one seam every caller goes through — chosen once at start-up, then
/// used the same way whether the engines run in this process or in confined worker processes.
///
/// - ``InProcessExecutor``: the engines in this process (the package's tests, `--isolation
///   in-process`). Fast to start; a call the engine cannot interrupt (a loop of promise jobs, a
///   catastrophic regular expression, a long C call) ends the process (see ``EngineMonitor``).
/// - ``WorkerPool``: `sluice worker` processes (the service, and the CLI by default). A call past
///   its limit in code the engine cannot interrupt costs one worker, and only that event fails:
///   the pool isolates poison events (docs/sandbox.md).
public protocol BatchExecutor: Sendable {
    /// Runs `batch` through `program` under `limits`. Blocks the calling thread.
    func run(_ program: Program, batch: Batch, limits: Limits) -> Execution
}

extension WorkerPool: BatchExecutor {}

/// Runs programs on an in-process ``Runtime``, compiling each program id once (a compile error
/// too: program ids are content ids, so the code under an id never changes).
public final class InProcessExecutor: BatchExecutor, @unchecked Sendable {
    // @unchecked: `cache` is guarded by `mutex`.
    public let runtime: Runtime
    private let cache: CompiledCache<Result<any CompiledTransformation, CompileError>>
    private var mutex = pthread_mutex_t()

    public init(runtime: Runtime = Runtime(libraries: NoLibraries()), cacheLimits: CacheLimits = CacheLimits()) {
        self.runtime = runtime
        cache = CompiledCache(limits: cacheLimits)
        pthread_mutex_init(&mutex, nil)
    }

    /// `program` compiled, from the cache or now.
    public func compiled(_ program: Program) -> Result<any CompiledTransformation, CompileError> {
        pthread_mutex_lock(&mutex)
        let cached = cache.value(for: program.id)
        pthread_mutex_unlock(&mutex)
        if let cached { return cached }
        let compiled = Result { () throws(CompileError) in
            try runtime.compile(program.source, libraries: InMemoryLibraries(program.libraries))
        }
        if !program.ephemeral {
            pthread_mutex_lock(&mutex)
            cache.insert(compiled, for: program.id,
                         bytes: program.source.code.utf8.count + program.libraries.reduce(0) { $0 + $1.code.utf8.count })
            pthread_mutex_unlock(&mutex)
        }
        return compiled
    }

    public func run(_ program: Program, batch: Batch, limits: Limits) -> Execution {
        switch compiled(program) {
        case .success(let transformation): .ran(runtime.run(transformation, batch: batch, limits: limits))
        case .failure(let error): .compileFailed(error.message)
        }
    }
}

extension BatchExecutor {
    /// Why `program` does not compile, or nil when it does (it runs on an empty batch).
    public func compileError(_ program: Program, limits: Limits = .defaults) -> String? {
        if case .compileFailed(let message) = run(program, batch: Batch(items: []), limits: limits) { return message }
        return nil
    }

    /// The batch's results for an offline run (`sluice run`, `test`, `replay`, `record`), where
    /// nobody retries for the caller: a lost batch is run again (twice at most), and what still
    /// does not run becomes each event's failure — never a missing result.
    public func results(_ program: Program, batch: Batch, limits: Limits) -> BatchResult {
        var execution = run(program, batch: batch, limits: limits)
        for _ in 0..<2 {
            guard case .lost = execution else { break }
            execution = run(program, batch: batch, limits: limits)
        }
        let failure: Failure
        switch execution {
        case .ran(let result): return result
        case .compileFailed(let message): failure = Failure(.compile, message)
        case .lost(let reason): failure = Failure(.engine, reason)
        case .refused(let reason): failure = Failure(.exception, reason)
        }
        let metadata = batch.itemMetadata
        return BatchResult(results: batch.items.indices.map {
            EventResult(inputIndex: $0, outcome: .failed(failure), metadata: $0 < metadata.count ? metadata[$0] : Array("{}".utf8))
        }, logs: [])
    }
}

extension Program {
    /// A folder or file transformation as a program: its code and the libraries it links from
    /// `libraries` (transitively), under the content id its version would have.
    public static func linking(_ source: TransformationSource, from libraries: any LibraryProvider, languages: LanguageTable = Engines.languages,
                               limits: LimitsOverride = LimitsOverride()) throws -> Program {
        let version = try TransformationVersion.linking(source, from: libraries, languages: languages, limits: limits, origin: "local")
        return Program(id: version.id, source: version.source, libraries: version.libraries)
    }
}
