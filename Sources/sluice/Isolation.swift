import ArgumentParser
import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// `--isolation` of the commands that run user code offline (`run`, `test`, `replay`, `record`).
struct IsolationOptions: ParsableArguments {
    @Option(help: """
        processes (default): user code runs in a confined `sluice worker` process, as in the service — a poison event \
        (a call the engines cannot interrupt, a crash) costs only its own result and the run goes on. in-process: the \
        engines run in this process (faster to start, nothing confined); such a call ends the run with exit status 70.
        """)
    var isolation: String = "processes"

    @Option(help: """
        Batches run at once (default: the cores this process may use — its CPU affinity and its cgroup's CPU quota): worker processes, or in-process engines, in parallel. \
        Results are written in input order and are the same bytes as with --jobs 1. In-process Python runs one job \
        (the process has one Python interpreter).
        """)
    var jobs: Int = IsolationOptions.cores

    /// The cores this process may use (its affinity mask and CPU quota: ``ProcessorBudget``).
    static var cores: Int { ProcessorBudget.cores }

    func validate() throws {
        guard ["processes", "in-process"].contains(isolation) else {
            throw ValidationError("--isolation must be processes or in-process (got \(isolation))")
        }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1") }
    }

    /// The jobs a run of `programs` gets: ``jobs``, except 1 for in-process Python, whose one
    /// interpreter per process runs one batch at a time whatever the number of engines.
    func jobs(for programs: [Program]) -> Int {
        isolation == "in-process" && programs.contains { $0.source.language == .python } ? 1 : jobs
    }

    /// The executor for a run of `programs` (``jobs(for:)`` batches at once); call `shutdown()`
    /// on the handle when done. `fetch` performs the workers' fetches (in-process runs take it
    /// from the batch).
    func makeExecutor(for programs: [Program], fetch: FetchHandler? = nil) throws -> ExecutorHandle {
        let jobs = jobs(for: programs)
        if isolation == "in-process" {
            let executor: any BatchExecutor = jobs == 1 ? InProcessExecutor() : InProcessExecutorPool(count: jobs)
            return ExecutorHandle(executor: executor, pool: nil, jobs: jobs)
        }
        var configuration = WorkerPool.Configuration()
        configuration.count = jobs
        configuration.languages = Set(programs.map(\.source.language))
        configuration.fetch = fetch
        do {
            let pool = try WorkerPool(configuration: configuration)
            return ExecutorHandle(executor: pool, pool: pool, jobs: jobs)
        } catch {
            throw CLIError("could not start a worker process (\(error)); --isolation in-process runs without one")
        }
    }
}

/// The executor of a command, how many batches it runs at once, and the worker processes to
/// stop when it is done.
final class ExecutorHandle {
    let executor: any BatchExecutor
    let pool: WorkerPool?
    /// Batches to run at once on ``executor``.
    let jobs: Int

    init(executor: any BatchExecutor, pool: WorkerPool?, jobs: Int) {
        self.executor = executor
        self.pool = pool
        self.jobs = jobs
    }

    func shutdown() { pool?.shutdown() }
}

/// A transformation loaded for a command: its definition and the program that runs it (its code
/// and the libraries it links).
struct LoadedTransformation {
    let definition: TransformationDefinition
    let program: Program

    /// Loads `path` and links its libraries from `libraries` (default: the nearest `libraries/`).
    init(path: String, libraries: String?) throws {
        do {
            definition = try TransformationLoader.load(path: path)
            program = try Program.linking(definition.source, from: LibraryDirectory(root: libraries ?? LibraryDirectory.nearestRoot(to: path), languages: Engines.languages))
        } catch let error as CLIError {
            throw error
        } catch {
            throw CLIError("\(error)")
        }
    }

    /// Fails with the compile error when the program does not compile on `executor`.
    func check(on executor: any BatchExecutor) throws {
        if let message = executor.compileError(program) { throw CLIError("\(definition.source.fileName): \(message)") }
    }

    var limits: Limits { definition.limits.applied(to: .defaults) }
}
