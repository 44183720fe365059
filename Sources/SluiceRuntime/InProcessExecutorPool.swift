import SluiceCore
import SluiceRegistry

/// Several ``InProcessExecutor``s behind one ``BatchExecutor``: each call takes a free executor
/// (waiting while all are busy), so batches run on as many engines at once as there are
/// executors — the in-process counterpart of a ``WorkerPool`` with several workers (`--jobs N
/// --isolation in-process`).
///
/// Each executor owns its own runtime, so JavaScript runs on one engine thread per executor.
/// Python's in-process engine is the process's one interpreter (`PythonEngine.shared`), which
/// every runtime shares: Python batches stay correct here but do not run in parallel (the
/// command line runs in-process Python with one job).
public final class InProcessExecutorPool: BatchExecutor, @unchecked Sendable {
    // @unchecked: `free` is guarded by `lock`.
    private let lock = ThreadLock()
    private let released = ThreadCondition()
    private var free: [InProcessExecutor]

    /// `count` executors (at least one), each made by `makeExecutor` (by default one with its own
    /// runtime and no libraries: programs carry the libraries they link).
    public init(count: Int, makeExecutor: () -> InProcessExecutor = { InProcessExecutor() }) {
        free = (0..<max(1, count)).map { _ in makeExecutor() }
    }

    public func run(_ program: Program, batch: Batch, limits: Limits) -> Execution {
        let executor = lock.withLock {
            while free.isEmpty { released.wait(lock) }
            return free.removeLast()
        }
        defer {
            lock.withLock {
                free.append(executor)
                released.signal()
            }
        }
        return executor.run(program, batch: batch, limits: limits)
    }
}
