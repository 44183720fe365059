/// How many events went in and how their results ended, by ``Outcome/name``: `output`, `dropped`
/// and each ``FailureKind`` by its name. The one count of outcomes the CLI summaries, the replay
/// and snapshot reports and the service's metrics share, so each says the same thing in the same
/// words.
///
/// Results are counted, not events: an event split into three outputs counts three `output`s;
/// ``events`` counts the inputs (malformed input items included).
public struct OutcomeTally: Sendable, Hashable {
    /// Inputs: the events that went in.
    public var events = 0
    /// Results that are outputs (each output of a split event counts).
    public var outputs = 0
    /// Results that dropped their event.
    public var dropped = 0
    /// Failed results, by kind.
    public private(set) var failures: [FailureKind: Int] = [:]

    public init() {}

    /// Counts `outcome` once.
    public mutating func add(_ outcome: Outcome) {
        switch outcome {
        case .output: outputs += 1
        case .dropped: dropped += 1
        case .failed(let failure): add(failure.kind)
        }
    }

    /// Counts one failed result of `kind` (`count` of them).
    public mutating func add(_ kind: FailureKind, count: Int = 1) {
        guard count > 0 else { return }
        failures[kind, default: 0] += count
    }

    /// Counts every result of `result`, and `events` inputs.
    public mutating func add(_ result: BatchResult, events: Int) {
        self.events += events
        for eventResult in result.results { add(eventResult.outcome) }
    }

    /// Adds another tally's counts to this one.
    public mutating func add(_ other: OutcomeTally) {
        events += other.events
        outputs += other.outputs
        dropped += other.dropped
        for (kind, count) in other.failures { add(kind, count: count) }
    }

    /// The tally of one batch's results.
    public init(_ result: BatchResult, events: Int) {
        add(result, events: events)
    }

    /// Failed results of `kind`.
    public func count(of kind: FailureKind) -> Int { failures[kind] ?? 0 }

    /// Failed results of every kind.
    public var failed: Int { failures.values.reduce(0, +) }

    /// Failed results of the limit kinds (``FailureKind/isLimit``).
    public var limitHits: Int { failures.filter(\.key.isLimit).values.reduce(0, +) }

    /// The kinds that occurred with their counts: ``FailureKind/all`` order, then kinds this
    /// build does not know by name.
    public var failureCounts: [(kind: FailureKind, count: Int)] {
        let known = FailureKind.all.compactMap { kind in failures[kind].map { (kind: kind, count: $0) } }
        let others = failures.filter { !FailureKind.all.contains($0.key) }.sorted { $0.key.name < $1.key.name }
            .map { (kind: $0.key, count: $0.value) }
        return known + others
    }

    /// The count of each outcome by ``Outcome/name``: `output` and `dropped` always, then each
    /// failure kind that occurred, as in ``failureCounts``. Reports and metrics label by these names.
    public var countsByName: [(name: String, count: Int)] {
        [("output", outputs), ("dropped", dropped)] + failureCounts.map { ($0.kind.name, $0.count) }
    }

    /// `1000 events → 980 outputs, 15 dropped, 5 failed (2 exception, 1 time_limit, 2 invalid_input)`:
    /// the line the CLI summaries and reports print (the kinds only when something failed).
    public var summary: String {
        var line = "\(Wording.counted(events, "event")) → \(Wording.counted(outputs, "output")), \(dropped) dropped, \(failed) failed"
        if failed > 0 {
            line += " (" + failureCounts.map { "\($0.count) \($0.kind.name)" }.joined(separator: ", ") + ")"
        }
        return line
    }
}
