import Foundation
import SluiceCore
import Testing

@Suite struct OrderedPipelineTests {
    struct Failed: Error, Equatable { var at: Int }

    /// Work that takes longer for early items, so later ones finish first on other workers.
    static func slowly(_ item: Int) -> Int {
        usleep(useconds_t((item % 4 == 0 ? 3_000 : 100)))
        return item * 10
    }

    @Test(arguments: [(1, nil), (2, nil), (3, 6), (5, 10)] as [(Int, Int?)])
    func resultsComeInProductionOrderAndTheWindowBoundsWhatIsInFlight(workers: Int, window: Int?) throws {
        let lock = ThreadLock()
        var produced = 0
        var consumed: [Int] = []
        var largestGap = 0
        var running = 0, mostRunning = 0
        try OrderedPipeline<Int, Int>(workers: workers, window: window).run(
            produce: {
                lock.withLock {
                    guard produced < 200 else { return nil }
                    largestGap = max(largestGap, produced - consumed.count)
                    produced += 1
                    return produced - 1
                }
            },
            work: { item in
                lock.withLock {
                    running += 1
                    mostRunning = max(mostRunning, running)
                }
                defer { lock.withLock { running -= 1 } }
                return Self.slowly(item)
            },
            consume: { item, output in
                #expect(output == item * 10)
                lock.withLock { consumed.append(item) }
            })
        #expect(consumed == Array(0..<200))
        #expect(largestGap < (window ?? 4 * workers), "at most the window's items in flight")
        #expect(mostRunning <= workers)
        if workers > 1 { #expect(mostRunning > 1, "workers ran at once") }
    }

    @Test func aConsumerFailureStopsTheRunAndIsThrown() {
        let lock = ThreadLock()
        var produced = 0, worked = 0
        #expect(throws: Failed(at: 5)) {
            try OrderedPipeline<Int, Int>(workers: 2).run(
                produce: { lock.withLock { produced += 1; return produced <= 10_000 ? produced : nil } },
                work: { item in lock.withLock { worked += 1 }; return item },
                consume: { item, _ in if item == 5 { throw Failed(at: 5) } })
        }
        #expect(lock.withLock { produced } < 100, "the reader stopped")
        #expect(lock.withLock { worked } < 100)
    }

    @Test func aReadFailureIsThrownAfterWhatWasReadIsConsumed() {
        var consumed: [Int] = []
        var next = 0
        #expect(throws: Failed(at: 7)) {
            try OrderedPipeline<Int, Int>(workers: 3).run(
                produce: {
                    next += 1
                    if next == 7 { throw Failed(at: 7) }
                    return next
                },
                work: { $0 },
                consume: { item, _ in consumed.append(item) })
        }
        #expect(consumed == [1, 2, 3, 4, 5, 6])
    }
}
