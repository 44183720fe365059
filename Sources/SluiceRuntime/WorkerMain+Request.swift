import SluiceCore
import SluiceSandbox

/// One `run` request in the worker: its batch wired to the server, and the program compiled (or
/// taken from the cache) and run.
extension WorkerMain {
    /// The reply, and the language of the code that ran (nil when none did). Programs are
    /// compiled once by `executor` (which keeps them in its cache); a request that names a program
    /// the worker does not have gets ``RunReply/needsCode``.
    static func handle(_ request: RunRequest, executor: InProcessExecutor, reports: CompileReports? = nil) -> (RunReply, Language?) {
        let compiled: Result<any CompiledTransformation, CompileError>
        if let program = request.program {
            compiled = executor.compiled(program)
        } else if let cached = executor.cached(request.programID) {
            reports?.cacheLookup(hit: true)
            compiled = cached
        } else {
            return (.needsCode, nil)
        }
        switch compiled {
        case .success(let transformation):
            return (.ran(executor.runtime.run(transformation, batch: request.batch, limits: request.limits)), transformation.source.language)
        case .failure(let error):
            // Python runs a module's top level while compiling it.
            return (.compileFailed(error.message), request.program?.source.language)
        }
    }

    /// The request's batch wired to the server: fetches go to the server (which performs them
    /// behind the egress guard), finished results stream to it while a long batch runs, and the
    /// server attaches every result's metadata from its own copy of the inputs.
    static func connect(_ request: inout RunRequest, to channel: FrameChannel) {
        // The engine thread waits for the answer on the channel (the main thread is waiting for the engine).
        request.batch.fetch = { fetchRequest, remaining in
            do {
                try channel.send(type: FrameType.fetch, payload: FetchCall.encode(fetchRequest, remainingNanoseconds: remaining))
                let answer = try channel.receive()
                guard answer.type == FrameType.fetchResult else {
                    return .failure(FetchFailure(kind: "network", message: "fetch: unexpected answer from the server"))
                }
                return try FetchCall.decodeResult(answer.payload)
            } catch {
                return .failure(FetchFailure(kind: "network", message: "fetch: the server did not answer (\(error))"))
            }
        }
        request.batch.attachesMetadata = false
        // A worker that has to be ended loses only the call that was running.
        request.batch.progressInterval = request.progressInterval
        request.batch.progress = { chunk in
            var writer = WireWriter(capacity: 256)
            ResultCoding.encode(chunk, into: &writer)
            try? channel.send(type: FrameType.progress, payload: writer.bytes)
        }
    }
}
