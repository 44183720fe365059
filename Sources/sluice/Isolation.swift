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

    func validate() throws {
        guard ["processes", "in-process"].contains(isolation) else {
            throw ValidationError("--isolation must be processes or in-process (got \(isolation))")
        }
    }

    /// The executor for this run; call `shutdown()` on the handle when done.
    func makeExecutor() throws -> ExecutorHandle {
        if isolation == "in-process" { return ExecutorHandle(executor: InProcessExecutor(), pool: nil) }
        var configuration = WorkerPool.Configuration()
        configuration.count = 1
        do {
            let pool = try WorkerPool(configuration: configuration)
            return ExecutorHandle(executor: pool, pool: pool)
        } catch {
            throw CLIError("could not start a worker process (\(error)); --isolation in-process runs without one")
        }
    }
}

/// The executor of a command, and the worker processes to stop when it is done.
final class ExecutorHandle {
    let executor: any BatchExecutor
    let pool: WorkerPool?

    init(executor: any BatchExecutor, pool: WorkerPool?) {
        self.executor = executor
        self.pool = pool
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
