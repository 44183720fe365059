#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs `work` on a new detached thread with a `stackSize`-byte stack (8 MB by default), and
/// returns the thread's handle (to signal it, or to tell whether code runs on it). The one way
/// Sluice starts a thread.
@discardableResult
public func startThread(stackSize: Int = 8 << 20, _ work: @escaping @Sendable () -> Void) -> pthread_t {
    let box = Unmanaged.passRetained(ThreadWork(work))
    var thread = pthread_t()
    var attributes = pthread_attr_t()
    pthread_attr_init(&attributes)
    pthread_attr_setstacksize(&attributes, stackSize)
    let result = pthread_create(&thread, &attributes, { argument in
        Unmanaged<ThreadWork>.fromOpaque(argument!).takeRetainedValue().work()
        return nil
    }, box.toOpaque())
    pthread_attr_destroy(&attributes)
    precondition(result == 0, "pthread_create failed: \(result)")
    pthread_detach(thread)
    return thread
}

/// The work of a thread being started, handed over through `pthread_create`'s argument.
private final class ThreadWork: Sendable {
    let work: @Sendable () -> Void
    init(_ work: @escaping @Sendable () -> Void) { self.work = work }
}
