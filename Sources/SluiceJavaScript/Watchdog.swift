import CJavaScriptCore
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// Enforces the per-call time and memory budgets on one context group.
///
/// JavaScriptCore's execution time limit counts CPU time per VM entry and calls back when it
/// runs out. The callback re-arms itself every ``tick`` (10 ms of CPU time), which turns it into
/// a periodic check on the JavaScript thread: has the current call (identified by the sequence
/// number the driver writes into the shared control array) run past its wall-clock deadline,
/// or has the process's resident memory grown past the budget since the batch started? Either
/// returns true, which terminates the running script (uncatchable by user code). The host then
/// reads ``takeFired()`` to learn why.
///
/// What this cannot stop: a loop made only of promise jobs (`for (;;) await 0`), because every
/// microtask is a fresh VM entry that never runs 10 ms by itself, and a long native call
/// (a catastrophic regular expression). ``EngineMonitor`` watches for those from another thread.
/// (Checking every entry — a time limit of zero — makes JavaScriptCore 2.50 trip a release
/// assertion in `VMTraps::requestThreadStopIfNeeded` under the resulting flood of timer
/// firings, so it is not an option.)
final class Watchdog {
    static let tick = 0.010

    let group: JSContextGroupRef
    private var control: UnsafeMutablePointer<Int32>?
    private var timeLimitNanoseconds: UInt64 = 0
    private var memoryLimitBytes: Int = 0
    private var lastSequence: Int32 = 0
    /// When the call `lastSequence` names started, as near as the watchdog knows (see ``check()``).
    private var sequenceSeenAt: UInt64 = 0
    /// When the host last entered the driver (``entering(at:)``), and when the last tick ran.
    private var enteredAt: UInt64 = 0
    private var lastTickAt: UInt64 = 0
    private var baselineResidentBytes = 0
    private var fired: FailureKind?
    private var paused = false
    /// Watches the calls from another thread.
    let monitor = EngineMonitor()

    init(group: JSContextGroupRef) {
        self.group = group
    }

    /// Installs the periodic callback on the group.
    func arm() {
        JSContextGroupSetExecutionTimeLimit(group, Self.tick, watchdogCallback, Unmanaged.passUnretained(self).toOpaque())
    }

    /// Starts watching a batch of calls that report through `control`.
    func begin(control: UnsafeMutablePointer<Int32>, limits: Limits, transformation: String) {
        self.control = control
        monitor.watch(control: control, limits: limits, transformation: transformation)
        timeLimitNanoseconds = UInt64(limits.timeMilliseconds) * 1_000_000
        memoryLimitBytes = limits.memoryMegabytes << 20
        lastSequence = 0
        fired = nil
        paused = false
        resetBaseline()
    }

    func end() {
        monitor.stopWatching()
        control = nil
        fired = nil
    }

    /// Measures memory from here on (after the input is parsed, after a memory-limit hit).
    func resetBaseline() {
        baselineResidentBytes = residentBytes()
    }

    /// The host is about to enter the driver (a step, or the start of a batch), which may start
    /// a call of user code: such a call started no earlier than `time`.
    @inline(__always)
    func entering(at time: UInt64) { enteredAt = time }

    /// While paused (the host's own calls into the driver) nothing is terminated.
    func pause() { paused = true }
    func resume() { paused = false }

    /// The limit that terminated the last call, once.
    func takeFired() -> FailureKind? {
        defer { fired = nil }
        return fired
    }

    /// Called on the JavaScript thread every tick of CPU time; true terminates the script.
    fileprivate func check() -> Bool {
        let now = monotonicNanoseconds()
        let previousTick = lastTickAt
        lastTickAt = now
        guard let control, !paused, fired == nil else { return false }
        let sequence = control.pointee
        guard sequence != 0 else { return false }
        let resident = residentBytes()
        if sequence != lastSequence {
            // A call seen for the first time. Its time counts from when it started: after the
            // host entered the driver for it and after the last tick (which did not see it).
            // Counting from this tick instead gave every call up to a tick more than its limit —
            // a tick is 10 ms of CPU time, 20–30 ms of wall-clock time on a loaded machine.
            // Its memory is measured from here, so garbage earlier calls left for the collector
            // does not count against it.
            lastSequence = sequence
            sequenceSeenAt = min(now, max(enteredAt, previousTick))
            baselineResidentBytes = resident
        }
        // A call first seen this late (a native stretch without ticks, a fetch) may be past it already.
        if now &- sequenceSeenAt >= timeLimitNanoseconds {
            fired = .timeLimit
            return true
        }
        if resident - baselineResidentBytes > memoryLimitBytes {
            fired = .memoryLimit
            return true
        }
        return false
    }

    /// What the running call has left of its time limit (all of it when no call is running or
    /// the watchdog has not seen it yet).
    func remainingNanoseconds() -> UInt64 {
        guard let control, control.pointee != 0, control.pointee == lastSequence else { return timeLimitNanoseconds }
        let elapsed = monotonicNanoseconds() &- sequenceSeenAt
        return elapsed >= timeLimitNanoseconds ? 0 : timeLimitNanoseconds - elapsed
    }

    /// Current resident set size of the process.
    func residentBytes() -> Int { ResidentMemory.bytes() }
}


private let watchdogCallback: JSShouldTerminateCallback = { _, info in
    let watchdog = Unmanaged<Watchdog>.fromOpaque(info!).takeUnretainedValue()
    if watchdog.check() { return true }
    // Re-arm: a callback that returns false is not called again unless the limit is set anew.
    JSContextGroupSetExecutionTimeLimit(watchdog.group, Watchdog.tick, watchdogCallback, info)
    return false
}

