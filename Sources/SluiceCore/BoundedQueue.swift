/// A blocking queue with a fixed capacity: the hand-over between pipeline stages on different
/// threads (reading, the engine, writing), so both cores work and memory stays bounded.
public final class BoundedQueue<Element>: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`.
    private let lock = ThreadLock()
    private let changed = ThreadCondition()
    private var items: [Element] = []
    private let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds an element, waiting while the queue is full.
    public func push(_ item: Element) {
        lock.lock()
        while items.count >= capacity { changed.wait(lock) }
        items.append(item)
        changed.broadcast()
        lock.unlock()
    }

    /// Adds an element unless the queue is full; false when it was full (nothing waits).
    public func tryPush(_ item: Element) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard items.count < capacity else { return false }
        items.append(item)
        changed.broadcast()
        return true
    }

    /// True when nothing is waiting to be taken.
    public var isEmpty: Bool {
        lock.lock()
        defer { lock.unlock() }
        return items.isEmpty
    }

    /// Takes the oldest element, waiting while the queue is empty.
    public func pop() -> Element {
        lock.lock()
        while items.isEmpty { changed.wait(lock) }
        let item = items.removeFirst()
        changed.broadcast()
        lock.unlock()
        return item
    }
}
