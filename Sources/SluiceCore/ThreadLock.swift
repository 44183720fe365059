#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A mutual-exclusion lock for state shared between threads: the one lock type of the package.
///
/// The `pthread_mutex_t` lives in its own allocation, made and initialised once and destroyed in
/// `deinit`: a mutex must not move, which a Swift stored property (or a `var` passed with `&`)
/// does not promise. So no class stores a `pthread_mutex_t` inline; it holds a `ThreadLock`.
/// (`Synchronization.Mutex` would do, but needs macOS 15 and cannot be waited on with a
/// ``ThreadCondition``.)
public final class ThreadLock: @unchecked Sendable {
    // @unchecked: the mutex itself is what makes the lock safe to share.
    let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init() {
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        let result = pthread_mutex_init(mutex, nil)
        precondition(result == 0, "pthread_mutex_init failed: \(result)")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    /// Takes the lock, waiting while another thread holds it. Prefer ``withLock(_:)``; this is for
    /// code that gives the lock up part-way (to wait, or to call out) and takes it back.
    public func lock() {
        pthread_mutex_lock(mutex)
    }

    /// Gives the lock up; only the thread that took it may.
    public func unlock() {
        pthread_mutex_unlock(mutex)
    }

    /// Runs `body` with the lock held.
    @inlinable
    public func withLock<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws(Failure) -> Result {
        lock()
        defer { unlock() }
        return try body()
    }
}
