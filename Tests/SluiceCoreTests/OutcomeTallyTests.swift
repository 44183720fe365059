import Foundation
import SluiceCore
import Testing

@Suite struct OutcomeTallyTests {
    static func result(_ outcomes: [Outcome]) -> BatchResult {
        BatchResult(results: outcomes.enumerated().map { EventResult(inputIndex: $0.offset, outcome: $0.element, metadata: []) }, logs: [])
    }

    static let mixed = result([
        .output([]), .output([]), .dropped, .failed(Failure(.timeLimit, "t")), .failed(Failure(.exception, "e")),
        .failed(Failure(.exception, "e")), .failed(Failure(.named("future_kind"), "f")), .failed(Failure(.invalidInput, "i")),
    ])

    @Test func countsEachResultByOutcomeAndKind() {
        let tally = OutcomeTally(Self.mixed, events: 7)
        #expect(tally.events == 7)
        #expect(tally.outputs == 2 && tally.dropped == 1 && tally.failed == 5)
        #expect(tally.count(of: .exception) == 2 && tally.count(of: .memoryLimit) == 0)
        #expect(tally.limitHits == 1)
        // Known kinds in FailureKind.all order, then unknown ones by name.
        #expect(tally.failureCounts.map(\.kind.name) == ["exception", "time_limit", "invalid_input", "future_kind"])
        #expect(tally.countsByName.map(\.name) == ["output", "dropped", "exception", "time_limit", "invalid_input", "future_kind"])
    }

    @Test func summaryNamesEveryKindThatOccurred() {
        #expect(OutcomeTally(Self.mixed, events: 7).summary
            == "7 events → 2 outputs, 1 dropped, 5 failed (2 exception, 1 time_limit, 1 invalid_input, 1 future_kind)")
        #expect(OutcomeTally(Self.result([.output([])]), events: 1).summary == "1 event → 1 output, 0 dropped, 0 failed")
        #expect(OutcomeTally().summary == "0 events → 0 outputs, 0 dropped, 0 failed")
    }

    @Test func talliesAddUp() {
        var total = OutcomeTally(Self.mixed, events: 7)
        total.add(OutcomeTally(Self.result([.dropped, .failed(Failure(.exception, "e"))]), events: 2))
        total.add(.crash, count: 0)
        #expect(total.events == 9 && total.dropped == 2 && total.count(of: .exception) == 3)
        #expect(!total.failureCounts.contains { $0.kind == .crash })
    }

    @Test func encodesFlatByOutcomeNameAndDecodesBack() throws {
        let tally = OutcomeTally(Self.mixed, events: 7)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(tally), as: UTF8.self)
        #expect(text == #"{"dropped":1,"events":7,"exception":2,"future_kind":1,"invalid_input":1,"output":2,"time_limit":1}"#)
        #expect(try JSONDecoder().decode(OutcomeTally.self, from: Data(text.utf8)) == tally)
    }
}
