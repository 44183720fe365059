#if canImport(Glibc)
import Glibc
#endif

/// The last line of defence for what an engine cannot stop in-process: in JavaScript a loop made
/// only of promise jobs (`for (;;) await 0`) or a catastrophic regular expression, in Python a
/// long C call (`sum(range(10**12))`), in both a native call that never returns or driver work
/// that user code managed to hijack. It watches a batch from another thread through the
/// engine's control words — `control[0]`, the sequence number of the call running now (0 while
/// the driver itself works), and `control[1]`, the index of the input that call is for (-1 for a
/// whole `transformBatch` call; drivers leave it set after the call, so while the driver works it
/// names the last call that ran) — and when one state lasts past the time limit plus ``grace``,
/// whatever it is, it calls ``stuckHandler`` with the call that was running.
///
/// The default handler writes a message naming the transformation and the input and ends the
/// process with ``exitStatus``. A worker process installs its own, which tells the server which
/// input was running before it ends: the server then gives that input its terminal time-limit
/// error and runs the inputs after it on a fresh worker.
public final class EngineMonitor: @unchecked Sendable {
    // @unchecked: all state is guarded by `lock`; `control` points at memory the engine thread
    // writes, read here as plain 32-bit loads (a torn or stale value only delays detection).
    /// Grace after the time limit before the process is ended (default 2 s: in-process, ending the
    /// process ends the whole run, so the engines' own stops — within ~10–60 ms, later on a
    /// starved CPU — must have every chance first). Worker processes set 150 ms at start: there an
    /// early end costs one worker and gives the event the same time-limit error. Set once, before
    /// any batch runs.
    nonisolated(unsafe) public static var grace: UInt64 = 2_000_000_000
    /// CPU time the engine thread may burn in one state past its limit before the process is
    /// ended, even within ``grace`` (default 2 s, as ``grace``). Measured on the engine thread's
    /// own CPU clock, so the engines' own stops — which also come after CPU time (JavaScriptCore's
    /// watchdog ticks every 10 ms of it) — keep their chance on a starved CPU, while a call spinning
    /// in code nothing can interrupt is ended soon after its limit on an idle one. Worker
    /// processes set 50 ms. Set once, before any batch runs.
    nonisolated(unsafe) public static var cpuGrace: UInt64 = 2_000_000_000
    /// How often the monitor looks at the running state (10 ms).
    public static let samplingInterval: UInt32 = 10_000
    /// Exit status of a process ended by the monitor (EX_SOFTWARE).
    public static let exitStatus: Int32 = 70

    /// A call (or driver work) that ran past its time limit plus ``grace``.
    public struct StuckCall: Sendable {
        public var transformation: String
        /// The state's sequence number (0: the driver's own work, see ``RunningCall``).
        public var sequence: Int32
        /// The input whose call was running, -1 for a `transformBatch` call; when the driver
        /// itself was stuck (`inUserCode` false), the input of the last call that ran before.
        public var inputIndex: Int
        /// Whether user code was running (a call) or the driver's own work was stuck after it.
        public var inUserCode: Bool
        public var elapsedNanoseconds: UInt64
        public var limitMilliseconds: Int

        /// `sluice: transformation X ran 6.1 s on input 3, past its time limit of 4000 ms, …`
        public var message: String {
            let tenths = elapsedNanoseconds / 100_000_000
            let input = inputIndex < 0 ? (inUserCode ? "in transformBatch" : "") : "on input \(inputIndex) of its batch"
            let place = inUserCode
                ? "in code that cannot be interrupted in-process (a loop of promise jobs such as `for (;;) await 0`, a catastrophic regular expression, or a native call that does not return)"
                : "in the engine's own work after user code returned (a hijacked built-in, a finaliser)"
            return "sluice: transformation \(transformation) ran \(tenths / 10).\(tenths % 10) s \(input), past its time limit of \(limitMilliseconds) ms, \(place)"
        }
    }

    /// How long one state of a batch may last: the time limit plus the grace; reading the batch's
    /// inputs before any call (sequence 0, input -1), which takes as long as the input is large,
    /// at least 10 s.
    public static func allowance(for state: (Int32, Int32), limit: UInt64) -> UInt64 {
        baseAllowance(for: state, limit: limit) &+ grace
    }

    /// The allowance without the grace: the time limit, or the reading allowance.
    static func baseAllowance(for state: (Int32, Int32), limit: UInt64) -> UInt64 {
        state.0 == 0 && state.1 < 0 ? max(limit, minimumReadingAllowance) : limit
    }

    /// The least time reading a batch's inputs may take before the monitor steps in (10 s).
    public static let minimumReadingAllowance: UInt64 = 10_000_000_000

    /// What the engine thread is running now (see ``current``).
    public struct RunningCall: Sendable, Equatable {
        /// The call's sequence number; 0 while the driver itself works.
        public var sequence: Int32
        /// The input of the call (-1: a whole batch, or none yet); with sequence 0, the last call's.
        public var inputIndex: Int
    }

    /// Called once when a watched state lasts past the limit plus ``grace``, on the monitor's
    /// thread; it must not return (end the process). Set once at start-up, before any batch runs.
    nonisolated(unsafe) public static var stuckHandler: @Sendable (StuckCall) -> Void = { stuck in
        let text = stuck.message + "; ending the process.\n"
        _ = text.withCString { write(2, $0, strlen($0)) }
        _exit(exitStatus)
    }

    private let lock = ThreadLock()
    private var control: UnsafeMutablePointer<Int32>?
    private var limitNanoseconds: UInt64 = 0
    private var transformation = ""
    private var lastState = (sequence: Int32(0), index: Int32(-1))
    private var since: UInt64 = 0
    /// The engine thread's CPU clock (the thread that called ``watch``).
    private var cpuClock = clockid_t(CLOCK_THREAD_CPUTIME_ID)
    /// The engine thread's CPU time when the current state was first seen past its limit.
    private var cpuAtLimit: UInt64?
    private var started = false

    private static let registryLock = ThreadLock()
    nonisolated(unsafe) private static var monitors: [EngineMonitor] = []

    public init() {
        Self.registryLock.withLock { Self.monitors.append(self) }
    }

    /// Watches a batch whose calls publish their state at `control` (two Int32 words: sequence,
    /// input index) while they run.
    /// Call it on the engine thread: its CPU clock is the one the CPU grace is measured on.
    public func watch(control: UnsafeMutablePointer<Int32>, limits: Limits, transformation: String) {
        var clock = clockid_t(CLOCK_THREAD_CPUTIME_ID)
        if pthread_getcpuclockid(pthread_self(), &clock) != 0 { clock = clockid_t(CLOCK_THREAD_CPUTIME_ID) }
        lock.lock()
        cpuClock = clock
        cpuAtLimit = nil
        self.control = control
        limitNanoseconds = UInt64(limits.timeMilliseconds) * 1_000_000
        self.transformation = transformation
        lastState = (control[0], control[1])
        since = monotonicNanoseconds()
        let needsThread = !started
        started = true
        lock.unlock()
        if needsThread { startThread { [self] in loop() } }
    }

    public func stopWatching() {
        lock.lock()
        control = nil
        lock.unlock()
    }

    /// The call a watched batch is running, if any engine of this process is running one.
    public static var current: RunningCall? {
        let all = registryLock.withLock { monitors }
        for monitor in all {
            if let call = monitor.running { return call }
        }
        return nil
    }

    private var running: RunningCall? {
        lock.lock()
        defer { lock.unlock() }
        guard let control else { return nil }
        return RunningCall(sequence: control[0], inputIndex: Int(control[1]))
    }

    private func loop() {
        while true {
            usleep(Self.samplingInterval)
            lock.lock()
            guard let control else {
                lock.unlock()
                continue
            }
            let state = (control[0], control[1])
            let now = monotonicNanoseconds()
            if state != lastState {
                lastState = state
                since = now
                cpuAtLimit = nil
                lock.unlock()
                continue
            }
            let elapsed = now &- since
            guard elapsed > Self.baseAllowance(for: state, limit: limitNanoseconds) else {
                lock.unlock()
                continue
            }
            // Past the limit: ended once the engine thread has burned the CPU grace since, or the
            // wall-clock grace has passed (a thread blocked in a native call burns no CPU).
            let cpu = cpuNanoseconds()
            let atLimit = cpuAtLimit ?? cpu
            cpuAtLimit = atLimit
            guard elapsed > Self.allowance(for: state, limit: limitNanoseconds) || cpu &- atLimit > Self.cpuGrace else {
                lock.unlock()
                continue
            }
            let stuck = StuckCall(transformation: transformation, sequence: state.0, inputIndex: Int(state.1),
                                  inUserCode: state.0 != 0, elapsedNanoseconds: now &- since,
                                  limitMilliseconds: Int(limitNanoseconds / 1_000_000))
            self.control = nil
            lock.unlock()
            Self.stuckHandler(stuck)
        }
    }
}

extension EngineMonitor {
    /// The engine thread's CPU time (under the lock).
    private func cpuNanoseconds() -> UInt64 {
        var time = timespec()
        guard clock_gettime(cpuClock, &time) == 0 else { return 0 }
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
public func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
