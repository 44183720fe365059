import Foundation
import SluiceCore
import SluiceRuntime
import Testing

/// The circuit breaker's states: healthy → degraded → disabled → probing → healthy (or disabled again, for longer).
@Suite struct CircuitBreakerTests {
    private final class Transitions: @unchecked Sendable {
        let lock = NSLock()
        var seen: [String] = []
        func add(_ transition: CircuitBreaker.Transition) { lock.withLock { seen.append("\(transition.from.rawValue)→\(transition.status.state.rawValue)") } }
    }

    /// A clock the test moves by hand.
    private final class Clock: @unchecked Sendable {
        let lock = NSLock()
        var nanoseconds: UInt64 = 1_000_000_000
        func advance(milliseconds: UInt64) { lock.withLock { nanoseconds += milliseconds * 1_000_000 } }
        var now: UInt64 { lock.withLock { nanoseconds } }
    }

    private func breaker(_ clock: Clock = Clock(), window: Duration = .seconds(60)) -> (CircuitBreaker, Transitions) {
        var configuration = CircuitBreaker.Configuration()
        configuration.window = window
        configuration.disabledFor = .seconds(30)
        configuration.maximumDisabledFor = .seconds(100)
        let transitions = Transitions()
        return (CircuitBreaker(configuration: configuration, clock: { clock.now }) { transitions.add($0) }, transitions)
    }

    private func isDisabled(_ admission: CircuitBreaker.Admission) -> String? {
        if case .disabled(let message) = admission { return message }
        return nil
    }

    @Test func workerEndingsDegradeThenDisableAndTheMessageSaysWhyAndUntilWhen() {
        let (breaker, transitions) = breaker()
        breaker.record(version: "v1", transformation: "t", events: 10, limitHits: 0, workerEndings: 1, probe: false)
        #expect(breaker.statuses.isEmpty)
        breaker.record(version: "v1", transformation: "t", events: 10, limitHits: 0, workerEndings: 1, probe: false)
        #expect(breaker.statuses.map(\.state) == [.degraded])
        // Degraded versions still run.
        guard case .run(probe: false) = breaker.admit(version: "v1", transformation: "t") else {
            Issue.record("a degraded version must run")
            return
        }
        for _ in 0..<3 { breaker.record(version: "v1", transformation: "t", events: 10, limitHits: 0, workerEndings: 1, probe: false) }
        let message = try? #require(isDisabled(breaker.admit(version: "v1", transformation: "t")))
        #expect(message?.hasPrefix("transformation t version v1 is disabled: 5 of its events ended a worker process and 0 of 50 hit a limit in the last 60 s; it will be tried again at 20") == true, "\(message ?? "")")
        #expect(breaker.statuses.first?.retryAt != nil)
        // Other versions are not affected.
        guard case .run = breaker.admit(version: "v2", transformation: "t") else {
            Issue.record("another version must run")
            return
        }
        #expect(transitions.seen == ["healthy→degraded", "degraded→disabled"])
    }

    @Test func aCleanProbeReenablesAndAFailedOneDisablesForTwiceAsLong() throws {
        let clock = Clock()
        let (breaker, transitions) = breaker(clock)
        for _ in 0..<5 { breaker.record(version: "v", transformation: "t", events: 1, limitHits: 0, workerEndings: 1, probe: false) }
        #expect(isDisabled(breaker.admit(version: "v", transformation: "t")) != nil)
        clock.advance(milliseconds: 29_000)
        #expect(isDisabled(breaker.admit(version: "v", transformation: "t")) != nil)
        clock.advance(milliseconds: 1_000)
        // The first batch after the disabled time is the probe; others meanwhile stay refused.
        guard case .run(probe: true) = breaker.admit(version: "v", transformation: "t") else {
            Issue.record("expected the probe")
            return
        }
        #expect(isDisabled(breaker.admit(version: "v", transformation: "t"))?.contains("it is being tried again now") == true)
        breaker.record(version: "v", transformation: "t", events: 3, limitHits: 0, workerEndings: 1, probe: true)
        let again = try #require(breaker.statuses.first)
        #expect(again.state == .disabled && again.reason.hasPrefix("its probe batch failed again"))
        // 60 s now: still disabled after 59 s.
        clock.advance(milliseconds: 59_000)
        #expect(isDisabled(breaker.admit(version: "v", transformation: "t")) != nil)
        clock.advance(milliseconds: 1_000)
        guard case .run(probe: true) = breaker.admit(version: "v", transformation: "t") else {
            Issue.record("expected the second probe")
            return
        }
        breaker.record(version: "v", transformation: "t", events: 3, limitHits: 0, workerEndings: 0, probe: true)
        #expect(breaker.statuses.isEmpty)
        guard case .run(probe: false) = breaker.admit(version: "v", transformation: "t") else {
            Issue.record("expected the version to run again")
            return
        }
        #expect(transitions.seen == ["healthy→degraded", "degraded→disabled", "disabled→probing", "probing→disabled", "disabled→probing", "probing→healthy"])
    }

    @Test func aShareOfLimitHitsCountsOnceEnoughEventsRan() {
        let (breaker, _) = breaker()
        // 20 of 20 hit a limit, but fewer than 50 events ran: not yet.
        breaker.record(version: "v", transformation: "t", events: 20, limitHits: 20, workerEndings: 0, probe: false)
        #expect(breaker.statuses.isEmpty)
        // 35 of 60: past half → degraded.
        breaker.record(version: "v", transformation: "t", events: 40, limitHits: 15, workerEndings: 0, probe: false)
        #expect(breaker.statuses.map(\.state) == [.degraded])
        // 135 of 160 (0.84): still degraded; 235 of 260 (0.9): disabled.
        breaker.record(version: "v", transformation: "t", events: 100, limitHits: 100, workerEndings: 0, probe: false)
        #expect(breaker.statuses.map(\.state) == [.degraded])
        breaker.record(version: "v", transformation: "t", events: 100, limitHits: 100, workerEndings: 0, probe: false)
        #expect(breaker.statuses.map(\.state) == [.disabled])
    }

    @Test func faultsOutsideTheWindowAreForgottenAndAnOperatorCanReset() {
        let clock = Clock()
        let (breaker, _) = breaker(clock, window: .seconds(10))
        breaker.record(version: "v", transformation: "t", events: 1, limitHits: 0, workerEndings: 1, probe: false)
        breaker.record(version: "v", transformation: "t", events: 1, limitHits: 0, workerEndings: 1, probe: false)
        #expect(breaker.statuses.map(\.state) == [.degraded])
        clock.advance(milliseconds: 10_500)
        breaker.record(version: "v", transformation: "t", events: 1, limitHits: 0, workerEndings: 0, probe: false)
        #expect(breaker.statuses.isEmpty)
        for _ in 0..<5 { breaker.record(version: "v", transformation: "t", events: 1, limitHits: 0, workerEndings: 1, probe: false) }
        #expect(breaker.statuses.map(\.state) == [.disabled])
        #expect(breaker.reset(version: "v"))
        #expect(breaker.statuses.isEmpty)
        #expect(!breaker.reset(version: "v"))
    }

    @Test func offMeansEveryBatchRuns() {
        var configuration = CircuitBreaker.Configuration()
        configuration.enabled = false
        let breaker = CircuitBreaker(configuration: configuration)
        for _ in 0..<10 { breaker.record(version: "v", transformation: "t", events: 1, limitHits: 1, workerEndings: 1, probe: false) }
        guard case .run(probe: false) = breaker.admit(version: "v", transformation: "t") else {
            Issue.record("a breaker that is off never refuses")
            return
        }
        #expect(breaker.statuses.isEmpty)
    }
}
