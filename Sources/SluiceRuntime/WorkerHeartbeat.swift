#if canImport(Glibc)
import Glibc
#endif
import SluiceCore
import SluiceSandbox

/// Tells the server every ``WorkerTiming/heartbeatInterval`` that a batch is still running and
/// which call it is in (``CallState``, read from the engine monitor's control words), so the
/// server can tell a slow batch of many calls from a stuck call, and knows which input was
/// running if the worker has to be ended or dies.
final class Heartbeat: @unchecked Sendable {
    // @unchecked: `interval` is read and written under `mutex`.
    private let channel: FrameChannel
    private let mutex = ThreadLock()
    /// Nanoseconds between heartbeats while a batch runs; nil while idle.
    private var interval: UInt64?

    init(channel: FrameChannel) {
        self.channel = channel
    }

    /// Starts heartbeats every `interval` nanoseconds (nil stops them): the usual 250 ms, or 10 ms
    /// while a batch is run again after a lost worker, when the server must know precisely
    /// whether a call was running.
    func busy(every interval: UInt64?) {
        mutex.withLock { self.interval = interval }
    }

    func start() {
        startThread { [self] in
            var sent: UInt64 = 0
            while true {
                usleep(5_000)
                let interval = mutex.withLock { self.interval }
                guard let interval else {
                    sent = 0
                    continue
                }
                let now = monotonicNanoseconds()
                if sent == 0 { sent = now }
                guard now &- sent >= interval else { continue }
                sent = now
                let state = EngineMonitor.current.map { CallState(sequence: $0.sequence, inputIndex: $0.inputIndex) } ?? .idle
                try? channel.send(type: FrameType.heartbeat, payload: state.encoded())
            }
        }
    }
}
