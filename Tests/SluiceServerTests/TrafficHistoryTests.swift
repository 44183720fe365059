import Foundation
import SluiceCore
@testable import SluiceServer
import Testing

/// Studio's live charts' samples (``TrafficHistory``): per interval, within the window, bounded.
@Suite struct TrafficHistoryTests {
    let epoch = Date(timeIntervalSince1970: 1_800_000_000)

    func at(_ seconds: Double) -> Date { epoch.addingTimeInterval(seconds) }

    @Test func samplesCountEachIntervalsEventsErrorsAndLimitHitsWithAP99PerEvent() throws {
        let history = TrafficHistory(intervalSeconds: 5, samplesKept: 12)
        // Interval 0: two batches; interval 1 (5 s later): one, with measured per-event times.
        history.record(transformation: "a", events: 100, errors: 3, limitHits: 1, batchNanoseconds: 100 * 2_000_000, at: at(0.5))
        history.record(transformation: "a", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 80_000_000, at: at(4.9))
        let measured = Array(repeating: UInt64(1_000_000), count: 98) + [50_000_000, 60_000_000]
        history.record(transformation: "a", events: 100, errors: 0, limitHits: 0, measured: measured, batchNanoseconds: 0, at: at(6))
        let series = try #require(history.series(at: at(7)).first)
        #expect(series.name == "a")
        #expect(series.samples.map(\.events) == [101, 100])
        #expect(series.samples.map(\.errors) == [3, 0] && series.samples.map(\.limitHits) == [1, 0])
        #expect(series.samples.map(\.start) == [1_800_000_000, 1_800_000_005])
        // Interval 0: 100 events at 2 ms (their batch's share) and one at 80 ms: p99 is 2 ms
        // (rank 100 of 101), within the buckets' 4.5 %.
        let first = Double(try #require(series.samples[0].p99Nanoseconds))
        #expect(abs(first - 2_000_000) / 2_000_000 < 0.045, "\(first)")
        // Interval 1: the engine's own times are used; p99 is rank 99 of 100: the 50 ms call.
        let second = Double(try #require(series.samples[1].p99Nanoseconds))
        #expect(abs(second - 50_000_000) / 50_000_000 < 0.045, "\(second)")

        // As the route answers it: rates per second.
        let object = history.jsonObject(at: at(7))
        #expect(object["intervalSeconds"] as? Int == 5 && object["windowSeconds"] as? Int == 60)
        let samples = try #require(((object["transformations"] as? [[String: Any]])?.first)?["samples"] as? [[String: Any]])
        #expect(samples.map { $0["eventsPerSecond"] as? Double } == [20.2, 20])
        #expect((samples[1]["p99Milliseconds"] as? Double).map { abs($0 - 50) < 2.5 } == true)
    }

    @Test func samplesLeaveTheWindowAndIdleTransformationsGo() throws {
        let history = TrafficHistory(intervalSeconds: 5, samplesKept: 4)   // a 20 s window
        for second in stride(from: 0.0, to: 60, by: 5) {
            history.record(transformation: "busy", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1_000, at: at(second))
        }
        history.record(transformation: "once", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1_000, at: at(30))
        let now = history.series(at: at(57))
        // Only the intervals of the last 20 s: 40, 45, 50, 55 — never more than samplesKept.
        #expect(now.first { $0.name == "busy" }?.samples.map(\.start) == [40, 45, 50, 55].map { 1_800_000_000 + $0 })
        // "once" had no event in the window: it is gone.
        #expect(now.map(\.name) == ["busy"])
        #expect(history.count == 1)
        // Nothing in the window at all: nothing is listed, and nothing is kept.
        #expect(history.series(at: at(200)).isEmpty && history.count == 0)
    }

    @Test func theNumberOfTransformationsIsCappedByEvictingTheOneIdleTheLongest() throws {
        let history = TrafficHistory(intervalSeconds: 5, samplesKept: 180, maximumTransformations: 3)
        history.record(transformation: "old", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1, at: at(0))
        history.record(transformation: "middle", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1, at: at(10))
        history.record(transformation: "new", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1, at: at(20))
        // "old" is the one idle the longest: a fourth transformation evicts it.
        history.record(transformation: "fourth", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1, at: at(30))
        #expect(history.series(at: at(31)).map(\.name) == ["fourth", "middle", "new"])
        // Many names (as from a flood of new versions): never more than the cap, the newest kept.
        for index in 0..<1000 {
            history.record(transformation: "t\(index)", events: 1, errors: 0, limitHits: 0, batchNanoseconds: 1, at: at(40 + Double(index) * 0.01))
        }
        #expect(history.count == 3)
        #expect(history.series(at: at(60)).count == 3)
        #expect(history.series(at: at(60)).contains { $0.name == "t999" })
        // One transformation over a long time keeps at most samplesKept samples.
        let long = TrafficHistory(intervalSeconds: 5, samplesKept: 10, maximumTransformations: 1)
        for interval in 0..<500 {
            long.record(transformation: "x", events: 2, errors: 1, limitHits: 0, batchNanoseconds: 10, at: at(Double(interval) * 5))
        }
        let samples = try #require(long.series(at: at(2499)).first?.samples)
        #expect(samples.count == 10 && samples.allSatisfy { $0.events == 2 && $0.errors == 1 })
    }

    @Test func theServicesBatchCallFeedsItWithTheNumbersMetricsExports() throws {
        let metrics = ServiceMetrics()
        let failure = { (kind: FailureKind) in EventResult(inputIndex: 0, outcome: .failed(Failure(kind, "x")), metadata: Array("{}".utf8)) }
        let result = BatchResult(results: [
            EventResult(inputIndex: 0, outcome: .output(Array("{}".utf8)), metadata: Array("{}".utf8)),
            EventResult(inputIndex: 1, outcome: .dropped, metadata: Array("{}".utf8)),
            failure(.exception), failure(.timeLimit), failure(.memoryLimit),
        ], logs: [])
        metrics.batch(transformation: "checkout", version: "sv1", inputs: 5, result: result, duration: .milliseconds(10))
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"sluice_events_in_total{transformation="checkout",version="sv1"} 5"#))
        let sample = try #require(metrics.traffic.series().first { $0.name == "checkout" }?.samples.last)
        #expect(sample.events == 5 && sample.errors == 3 && sample.limitHits == 2)
        // 10 ms over 5 events: 2 ms each.
        #expect(sample.p99Nanoseconds.map { abs(Double($0) - 2_000_000) / 2_000_000 < 0.045 } == true)
    }
}
