#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A dedicated thread that runs submitted work one item at a time. An engine's interpreter state
/// is confined to one: everything that touches it runs through ``sync(_:)``. (Core uses the C
/// library's threads here, not an engine's C API.)
///
/// The thread gets a 16 MB stack so deep (but bounded) recursion in user code reaches
/// JavaScriptCore's own stack-overflow check rather than the end of the stack.
public final class EngineThread: @unchecked Sendable {
    private let lock = ThreadLock()
    private let condition = ThreadCondition()
    private var queue: [() -> Void] = []
    private var thread = pthread_t()
    /// The thread's pthread handle (for signalling it).
    public private(set) var threadID: pthread_t

    public static let stackSize = 16 << 20

    public init(name: String) {
        threadID = pthread_t()
        thread = startThread(stackSize: Self.stackSize) { [self] in runLoop() }
        threadID = thread
    }

    private func runLoop() {
        while true {
            lock.lock()
            while queue.isEmpty { condition.wait(lock) }
            let work = queue.removeFirst()
            lock.unlock()
            work()
        }
    }

    /// Runs `work` on the engine thread and waits for its result.
    public func sync<T>(_ work: @escaping () -> T) -> T {
        if pthread_equal(pthread_self(), thread) != 0 { return work() }
        let completion = Completion<T>()
        let job = UncheckedBox(work)
        enqueue { completion.complete(job.value()) }
        return completion.wait()
    }

    /// Runs `work` on the engine thread like ``sync(_:)``, passing its typed error on.
    public func sync<T, E: Error>(throwing work: @escaping () throws(E) -> T) throws(E) -> T {
        let result: Result<T, E> = sync {
            do throws(E) {
                return .success(try work())
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Queues `work` without waiting.
    public func async(_ work: @escaping () -> Void) {
        enqueue(work)
    }

    private func enqueue(_ work: @escaping () -> Void) {
        lock.withLock {
            queue.append(work)
            condition.signal()
        }
    }
}

/// A one-shot result handed from the engine thread to a waiting caller.
private final class Completion<T>: @unchecked Sendable {
    // @unchecked: `value` is guarded by `lock`.
    private let lock = ThreadLock()
    private let condition = ThreadCondition()
    private var value: T?

    func complete(_ result: T) {
        lock.withLock {
            value = result
            condition.signal()
        }
    }

    func wait() -> T {
        lock.lock()
        while value == nil { condition.wait(lock) }
        let result = value!
        lock.unlock()
        return result
    }
}

/// Carries a non-Sendable value across threads where the code guarantees exclusive access.
public struct UncheckedBox<Value>: @unchecked Sendable {
    public var value: Value
    public init(_ value: Value) { self.value = value }
}
