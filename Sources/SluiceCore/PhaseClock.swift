/// Where one batch's time went inside an engine, phase by phase, when the batch asks for it
/// (``Batch/measuresPhases``; `sluice bench` does, on one pass of its own). In-process engines
/// only: a worker process does not send its phases back.
public struct PhaseTime: Sendable, Hashable {
    /// What the engine was doing (`input text`, `parse`, `calls`, … — each engine's own list,
    /// documented in docs/performance.md).
    public var name: String
    public var nanoseconds: UInt64

    public init(name: String, nanoseconds: UInt64) {
        self.name = name
        self.nanoseconds = nanoseconds
    }
}

/// Times consecutive phases of one batch: each ``end(_:)`` charges the time since the previous
/// one (or since the clock started) to that phase. A disabled clock reads no time at all.
public struct PhaseClock {
    public private(set) var phases: [PhaseTime] = []
    private let enabled: Bool
    private var last: UInt64

    public init(enabled: Bool) {
        self.enabled = enabled
        last = enabled ? monotonicNanoseconds() : 0
    }

    /// Charges the time since the last mark to `name` (added to it when it ran before).
    @inline(__always)
    public mutating func end(_ name: String) {
        guard enabled else { return }
        let now = monotonicNanoseconds()
        let elapsed = now &- last
        last = now
        phases.add(PhaseTime(name: name, nanoseconds: elapsed))
    }
}

extension [PhaseTime] {
    /// Adds `phase` to the phase of the same name, or appends it when none has run yet: the order
    /// stays the order in which phases first ran.
    public mutating func add(_ phase: PhaseTime) {
        if let index = firstIndex(where: { $0.name == phase.name }) {
            self[index].nanoseconds &+= phase.nanoseconds
        } else {
            append(phase)
        }
    }
}
