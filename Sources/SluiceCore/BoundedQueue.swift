#if canImport(Glibc)
import Glibc
#endif

/// A blocking queue with a fixed capacity: the hand-over between pipeline stages on different
/// threads (reading, the engine, writing), so both cores work and memory stays bounded.
public final class BoundedQueue<Element>: @unchecked Sendable {
    // @unchecked: all state is guarded by `mutex`. The pthread objects live in their own
    // allocations: they must not move, which a Swift stored property does not promise.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let changed = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var items: [Element] = []
    private let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(changed, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        pthread_cond_destroy(changed)
        mutex.deallocate()
        changed.deallocate()
    }

    /// Adds an element, waiting while the queue is full.
    public func push(_ item: Element) {
        pthread_mutex_lock(mutex)
        while items.count >= capacity { pthread_cond_wait(changed, mutex) }
        items.append(item)
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
    }

    /// Adds an element unless the queue is full; false when it was full (nothing waits).
    public func tryPush(_ item: Element) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard items.count < capacity else { return false }
        items.append(item)
        pthread_cond_broadcast(changed)
        return true
    }

    /// Takes the oldest element, waiting while the queue is empty.
    public func pop() -> Element {
        pthread_mutex_lock(mutex)
        while items.isEmpty { pthread_cond_wait(changed, mutex) }
        let item = items.removeFirst()
        pthread_cond_broadcast(changed)
        pthread_mutex_unlock(mutex)
        return item
    }
}

/// A flag one stage raises to tell the others to stop early (say, the output went away).
public final class StopFlag: @unchecked Sendable {
    // @unchecked: `raised` is guarded by `mutex`.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var raised = false

    public init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func raise() {
        pthread_mutex_lock(mutex)
        raised = true
        pthread_mutex_unlock(mutex)
    }

    public var isRaised: Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return raised
    }
}

/// Runs `work` on a new detached thread with an 8 MB stack.
public func startThread(_ work: @escaping @Sendable () -> Void) {
    let box = Unmanaged.passRetained(ThreadWork(work))
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, 8 << 20)
    let result = pthread_create(&thread, &attributes, { argument in
        Unmanaged<ThreadWork>.fromOpaque(argument!).takeRetainedValue().work()
        return nil
    }, box.toOpaque())
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
    pthread_detach(thread)
}

private final class ThreadWork: Sendable {
    let work: @Sendable () -> Void
    init(_ work: @escaping @Sendable () -> Void) { self.work = work }
}
