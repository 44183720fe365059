#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A condition variable to wait on with a ``ThreadLock`` held, heap-allocated like the lock (a
/// `pthread_cond_t` must not move either).
public final class ThreadCondition: @unchecked Sendable {
    // @unchecked: the condition variable is made to be shared between threads.
    private let condition: UnsafeMutablePointer<pthread_cond_t>

    public init() {
        condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        let result = pthread_cond_init(condition, nil)
        precondition(result == 0, "pthread_cond_init failed: \(result)")
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
    }

    /// Gives `lock` (held by the caller) up until the condition is signalled, then takes it back.
    /// Wakes can be spurious: wait in a loop that checks what it waits for.
    public func wait(_ lock: ThreadLock) {
        pthread_cond_wait(condition, lock.mutex)
    }

    /// Like ``wait(_:)``, for at most `nanoseconds`.
    public func wait(_ lock: ThreadLock, nanoseconds: UInt64) {
        var deadline = timespec()
        clock_gettime(CLOCK_REALTIME, &deadline)
        let total = UInt64(deadline.tv_nsec) + nanoseconds
        deadline.tv_sec += Int(total / 1_000_000_000)
        deadline.tv_nsec = Int(total % 1_000_000_000)
        pthread_cond_timedwait(condition, lock.mutex, &deadline)
    }

    /// Wakes one waiting thread.
    public func signal() {
        pthread_cond_signal(condition)
    }

    /// Wakes every waiting thread.
    public func broadcast() {
        pthread_cond_broadcast(condition)
    }
}
