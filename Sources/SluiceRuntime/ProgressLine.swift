import SluiceCore

/// The line `sluice run` keeps redrawing on standard error during a long run (when
/// ``TerminalStyle/showsProgress``): events so far, the rate, and how many results failed —
/// `sluice run: 120000 events, 48210 events/s, 3 failed, 2.5 s`. Nothing is drawn during the first
/// ``delay`` (a short run shows only its summary), then at most every ``interval``;
/// ``finish()`` erases it before the summary is written.
public final class ProgressLine {
    /// How long a run goes on before the line first appears. 1 s.
    public let delay: Duration
    /// The least time between two redraws. 250 ms.
    public let interval: Duration
    private let write: (String) -> Void
    private let started: ContinuousClock.Instant
    private var lastDraw: ContinuousClock.Instant?

    /// A progress line written with `write` (the CLI's standard error), starting now.
    public init(delay: Duration = .seconds(1), interval: Duration = .milliseconds(250), write: @escaping (String) -> Void) {
        self.delay = delay
        self.interval = interval
        self.write = write
        started = ContinuousClock.now
    }

    /// Redraws the line for `outcomes` so far, when it is time to.
    public func update(_ outcomes: OutcomeTally) {
        let now = ContinuousClock.now
        let elapsed = now - started
        guard elapsed >= delay else { return }
        if let lastDraw, now - lastDraw < interval { return }
        lastDraw = now
        write("\r\u{1B}[K" + Self.text(events: outcomes.events, failed: outcomes.failed, elapsed: elapsed))
    }

    /// Erases the line when it was drawn.
    public func finish() {
        if lastDraw != nil { write("\r\u{1B}[K") }
        lastDraw = nil
    }

    /// `sluice run: 120000 events, 48210 events/s, 3 failed, 2.5 s`.
    public static func text(events: Int, failed: Int, elapsed: Duration) -> String {
        let seconds = max(elapsed.secondsValue, 0.001)
        let rate = Int((Double(events) / seconds).rounded())
        let tenths = Int((seconds * 10).rounded())
        return "sluice run: \(Wording.counted(events, "event")), \(rate) events/s, \(failed) failed, \(tenths / 10).\(tenths % 10) s"
    }
}
