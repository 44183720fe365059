import SluiceCore
import SluiceRegistry
import SluiceSandbox

/// What an ``InProcessExecutor`` reports about its compiled-code cache (the service's metrics).
public protocol CompileObserver: Sendable {
    /// A program was looked up in the cache.
    func cacheLookup(hit: Bool)
    /// A program was compiled (or failed to) in `duration`.
    func compiled(transformation: String, version: String, duration: Duration, failed: Bool)
    /// `count` programs were evicted to make room.
    func cacheEvictions(_ count: Int)
}

/// Runs programs on an in-process ``Runtime``, compiling each program id once (a compile error
/// too: program ids are content ids, so the code under an id never changes).
///
/// One executor owns one runtime, whose engines confine their interpreters to their own threads:
/// a caller that wants engines on several cores uses one executor per thread (as the service's
/// in-process mode does).
public final class InProcessExecutor: BatchExecutor, @unchecked Sendable {
    // @unchecked: `cache` is guarded by `lock`.
    public let runtime: Runtime
    private let cache: CompiledCache<Result<any CompiledTransformation, CompileError>>
    private let observer: (any CompileObserver)?
    private let lock = ThreadLock()

    public init(runtime: Runtime = Runtime(libraries: NoLibraries()), cacheLimits: CacheLimits = CacheLimits(),
                observer: (any CompileObserver)? = nil) {
        self.runtime = runtime
        self.observer = observer
        cache = CompiledCache(limits: cacheLimits)
    }

    /// The program with content id `id` as compiled earlier, or nil when it is not in the cache.
    public func cached(_ id: String) -> Result<any CompiledTransformation, CompileError>? {
        lock.withLock { cache.value(for: id) }
    }

    /// `program` compiled, from the cache or now.
    public func compiled(_ program: Program) -> Result<any CompiledTransformation, CompileError> {
        let cached = program.ephemeral ? nil : lock.withLock { cache.value(for: program.id) }
        if !program.ephemeral { observer?.cacheLookup(hit: cached != nil) }
        if let cached { return cached }
        let start = ContinuousClock.now
        let compiled = Result { () throws(CompileError) in
            try runtime.compile(program.source, libraries: InMemoryLibraries(program.libraries, searchedPlaces: program.libraryPlaces))
        }
        if !program.ephemeral {
            var failed = false
            if case .failure = compiled { failed = true }
            observer?.compiled(transformation: program.source.name, version: program.id, duration: ContinuousClock.now - start, failed: failed)
            let evicted = lock.withLock {
                let evictions = cache.evictions
                cache.insert(compiled, for: program.id,
                             bytes: program.source.code.utf8.count + program.libraries.reduce(0) { $0 + $1.code.utf8.count })
                return cache.evictions - evictions
            }
            if evicted > 0 { observer?.cacheEvictions(evicted) }
        }
        return compiled
    }

    public func run(_ program: Program, batch: Batch, limits: Limits) -> Execution {
        switch compiled(program) {
        case .success(let transformation): .ran(runtime.run(transformation, batch: batch, limits: limits))
        case .failure(let error): .failed(Failure(.compile, error.message))
        }
    }
}
