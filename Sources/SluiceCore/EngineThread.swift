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
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var queue: [() -> Void] = []
    private var thread = pthread_t()
    /// The thread's pthread handle (for signalling it).
    public private(set) var threadID: pthread_t

    public static let stackSize = 16 << 20

    public init(name: String) {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
        threadID = pthread_t()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        pthread_attr_setstacksize(&attributes, Self.stackSize)
        let box = Unmanaged.passRetained(self)
        let result = pthread_create(&thread, &attributes, { argument in
            let engineThread = Unmanaged<EngineThread>.fromOpaque(argument!).takeRetainedValue()
            engineThread.runLoop()
            return nil
        }, box.toOpaque())
        pthread_attr_destroy(&attributes)
        precondition(result == 0, "pthread_create failed: \(result)")
        threadID = thread
    }

    private func runLoop() {
        while true {
            pthread_mutex_lock(&mutex)
            while queue.isEmpty { pthread_cond_wait(&condition, &mutex) }
            let work = queue.removeFirst()
            pthread_mutex_unlock(&mutex)
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
        pthread_mutex_lock(&mutex)
        queue.append(work)
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }
}

/// A one-shot result handed from the engine thread to a waiting caller.
private final class Completion<T>: @unchecked Sendable {
    private var mutex = pthread_mutex_t()
    private var condition = pthread_cond_t()
    private var value: T?

    init() {
        pthread_mutex_init(&mutex, nil)
        pthread_cond_init(&condition, nil)
    }

    deinit {
        pthread_mutex_destroy(&mutex)
        pthread_cond_destroy(&condition)
    }

    func complete(_ result: T) {
        pthread_mutex_lock(&mutex)
        value = result
        pthread_cond_signal(&condition)
        pthread_mutex_unlock(&mutex)
    }

    func wait() -> T {
        pthread_mutex_lock(&mutex)
        while value == nil { pthread_cond_wait(&condition, &mutex) }
        let result = value!
        pthread_mutex_unlock(&mutex)
        return result
    }
}

/// Carries a non-Sendable value across threads where the code guarantees exclusive access.
public struct UncheckedBox<Value>: @unchecked Sendable {
    public var value: Value
    public init(_ value: Value) { self.value = value }
}
