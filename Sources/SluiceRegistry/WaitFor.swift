import Foundation

/// Runs async `body` and blocks the calling thread until it finishes. For threads outside Swift
/// concurrency only (the engine workers, which are plain threads): called from async code it could
/// wait on the very executor `body` needs.
public func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = WaitBox<T>()
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        done.signal()
    }
    done.wait()
    return try box.result!.get()
}

private final class WaitBox<T>: @unchecked Sendable {
    // @unchecked: written once before the semaphore is signalled, read after it is waited on.
    var result: Result<T, any Error>?
}
