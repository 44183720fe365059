#if canImport(Glibc)
import Glibc
#endif

/// The last line of defence for what an engine cannot stop in-process: in JavaScript a loop made
/// only of promise jobs (`for (;;) await 0`), in Python a long C call (`sum(range(10**12))`) or
/// an `except BaseException` that swallows the time limit, in both a native call that never
/// returns. When a call has run past its time limit plus ``grace``, this monitor ends the process
/// with status ``exitStatus`` and a message naming the transformation — a clear failure instead
/// of a hang. The worker processes of the service turn the same event into a replaced worker and
/// a retryable failure.
public final class EngineMonitor: @unchecked Sendable {
    // @unchecked: all state is guarded by `mutex`; `control` points at memory the engine thread
    // writes, read here as a plain 32-bit load (a torn or stale value only delays detection).
    /// Grace after the time limit before the process is ended.
    public static let grace: UInt64 = 2_000_000_000
    /// Exit status of a process ended by the monitor (EX_SOFTWARE).
    public static let exitStatus: Int32 = 70

    private var mutex = pthread_mutex_t()
    private var control: UnsafeMutablePointer<Int32>?
    private var limitNanoseconds: UInt64 = 0
    private var transformation = ""
    private var lastSequence: Int32 = 0
    private var since: UInt64 = 0
    private var thread = pthread_t()
    private var started = false

    public init() {
        pthread_mutex_init(&mutex, nil)
    }

    /// Watches calls that publish a nonzero sequence number at `control` while they run.
    public func watch(control: UnsafeMutablePointer<Int32>, limits: Limits, transformation: String) {
        pthread_mutex_lock(&mutex)
        self.control = control
        limitNanoseconds = UInt64(limits.timeMilliseconds) * 1_000_000
        self.transformation = transformation
        lastSequence = 0
        since = monotonicNanoseconds()
        let needsThread = !started
        started = true
        pthread_mutex_unlock(&mutex)
        if needsThread { startThread() }
    }

    public func stopWatching() {
        pthread_mutex_lock(&mutex)
        control = nil
        pthread_mutex_unlock(&mutex)
    }

    private func startThread() {
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { argument in
            let monitor = Unmanaged<EngineMonitor>.fromOpaque(argument!).takeRetainedValue()
            monitor.loop()
            return nil
        }, box.toOpaque())
        pthread_detach(thread)
    }

    private func loop() {
        while true {
            usleep(100_000)
            pthread_mutex_lock(&mutex)
            defer { pthread_mutex_unlock(&mutex) }
            guard let control else { continue }
            let sequence = control.pointee
            let now = monotonicNanoseconds()
            if sequence != lastSequence || sequence == 0 {
                lastSequence = sequence
                since = now
                continue
            }
            if now &- since > limitNanoseconds &+ Self.grace {
                let tenths = (now &- since) / 100_000_000
                let message = "sluice: transformation \(transformation) ran \(tenths / 10).\(tenths % 10) s, past its time limit of \(limitNanoseconds / 1_000_000) ms, in code that cannot be interrupted in-process (a loop of promise jobs such as `for (;;) await 0`, or a native call that does not return); ending the process.\n"
                _ = message.withCString { write(2, $0, strlen($0)) }
                _exit(Self.exitStatus)
            }
        }
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
