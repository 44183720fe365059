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
///
/// Callers never ask which one they have: a compile error, a lost worker or a refused batch is an
/// ``Execution/failed(_:)`` with its ``FailureKind`` either way.
public protocol BatchExecutor: Sendable {
    /// Runs `batch` through `program` under `limits`. Blocks the calling thread.
    func run(_ program: Program, batch: Batch, limits: Limits) -> Execution
    /// Whether work that must only use spare capacity (a shadow run's candidate batches) may
    /// start now: in a worker pool, when a worker process is idle and another one stays idle for
    /// live batches after it is taken (with a single worker: when it is idle); in process, always
    /// (the engine threads are the capacity, and their caller counts them).
    var hasSpareWorker: Bool { get }
}

extension WorkerPool: BatchExecutor {
    public var hasSpareWorker: Bool {
        let status = status
        return Self.hasSpareWorker(ready: status.ready, busy: status.busy)
    }

    /// With `ready` workers of which `busy` are busy: one is idle, and another stays idle once it
    /// is taken (with a single worker: it is idle).
    public static func hasSpareWorker(ready: Int, busy: Int) -> Bool {
        ready > 0 && ready - busy >= min(2, ready)
    }
}

extension BatchExecutor {
    public var hasSpareWorker: Bool { true }

    /// Why `program` does not compile, or nil when it does (it runs on an empty batch). A batch
    /// that could not run for another reason (no worker free) answers with that reason.
    public func compileError(_ program: Program, limits: Limits = .defaults) -> String? {
        run(program, batch: Batch(items: []), limits: limits).failure?.message
    }

    /// The batch's results for an offline run (`sluice run`, `test`, `replay`, `record`), where
    /// nobody retries for the caller: a batch that failed for a retryable reason is run again
    /// (twice at most), and what still does not run becomes each event's failure — never a
    /// missing result.
    public func results(_ program: Program, batch: Batch, limits: Limits) -> BatchResult {
        var execution = run(program, batch: batch, limits: limits)
        for _ in 0..<2 {
            guard let failure = execution.failure, failure.kind.isRetryable else { break }
            execution = run(program, batch: batch, limits: limits)
        }
        return execution.results(for: batch)
    }
}

extension Program {
    /// A folder or file transformation as a program: its code and the libraries it links from
    /// `libraries` (transitively), under the content id its version would have.
    public static func linking(_ source: TransformationSource, from libraries: any LibraryProvider, languages: LanguageTable = Engines.languages,
                               limits: LimitsOverride = LimitsOverride()) throws -> Program {
        let version = try TransformationVersion.linking(source, from: libraries, languages: languages, limits: limits, origin: "local")
        return Program(version)
    }

    /// The program of a version: its code and pinned libraries under its content id.
    public init(_ version: TransformationVersion, ephemeral: Bool = false) {
        self.init(id: version.id, source: version.source, libraries: version.libraries, ephemeral: ephemeral)
        libraryPlaces = version.libraryPlaces
    }
}
