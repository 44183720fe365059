#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import Testing

/// A counter shared between threads, guarded by a `ThreadLock`.
private final class Counter: @unchecked Sendable {
    let lock = ThreadLock()
    var value = 0
}

private struct Refusal: Error, Equatable {}

@Suite struct ConcurrencyPrimitivesTests {
    @Test func threadLockMakesIncrementsFromManyThreadsExact() {
        let counter = Counter()
        let done = BoundedQueue<Void>(capacity: 8)
        for _ in 0 ..< 8 {
            startThread {
                for _ in 0 ..< 10_000 { counter.lock.withLock { counter.value += 1 } }
                done.push(())
            }
        }
        for _ in 0 ..< 8 { done.pop() }
        #expect(counter.lock.withLock { counter.value } == 80_000)
    }

    @Test func withLockPassesTypedErrorsOnAndUnlocks() {
        let lock = ThreadLock()
        #expect(throws: Refusal()) { try lock.withLock { () throws(Refusal) in throw Refusal() } }
        // Still usable from another thread: the throw gave the lock back.
        let taken = BoundedQueue<Bool>(capacity: 1)
        startThread { taken.push(lock.withLock { true }) }
        #expect(taken.pop())
    }

    @Test func conditionWakesAWaiterAndTimedWaitsEnd() {
        let lock = ThreadLock()
        let condition = ThreadCondition()
        let ready = Counter()
        let woken = BoundedQueue<Int>(capacity: 1)
        startThread {
            lock.lock()
            while ready.value == 0 { condition.wait(lock) }
            let seen = ready.value
            lock.unlock()
            woken.push(seen)
        }
        lock.withLock {
            ready.value = 7
            condition.signal()
        }
        #expect(woken.pop() == 7)

        let start = monotonicNanoseconds()
        lock.withLock { condition.wait(lock, nanoseconds: 20_000_000) }
        #expect(monotonicNanoseconds() - start >= 15_000_000)
    }

    @Test func startThreadRunsTheWorkOnTheThreadItReturns() {
        let seen = BoundedQueue<pthread_t>(capacity: 1)
        let handle = startThread(stackSize: 16 << 20) { seen.push(pthread_self()) }
        #expect(pthread_equal(seen.pop(), handle) != 0)
        #expect(pthread_equal(pthread_self(), handle) == 0)
    }

    @Test func systemErrorNamesTheCallAndTheSystemsText() {
        #expect(throws: SystemError("open", code: ENOENT)) {
            try SystemError.retryingOnInterrupt("open") { open("/nonexistent/sluice-system-error", O_RDONLY) }
        }
        #expect(SystemError("open", code: ENOENT).description == "open: No such file or directory")
        #expect(SystemError("read", code: EISDIR).reason == "Is a directory")
    }

    @Test func retryingOnInterruptCallsAgainOnlyOnEINTR() throws {
        var calls = 0
        let result = try SystemError.retryingOnInterrupt("poll") { () -> Int32 in
            calls += 1
            if calls < 3 {
                errno = EINTR
                return -1
            }
            return 5
        }
        #expect(result == 5)
        #expect(calls == 3)
    }
}
