@testable import SluiceCore
import Testing

@Suite struct WordingTests {
    @Test func countsTakeTheNounInTheirNumber() {
        #expect(Wording.counted(0, "input") == "0 inputs")
        #expect(Wording.counted(1, "input") == "1 input")
        #expect(Wording.counted(2, "input") == "2 inputs")
        #expect(Wording.counted(1, "library", plural: "libraries") == "1 library")
        #expect(Wording.counted(3, "library", plural: "libraries") == "3 libraries")
    }

    @Test func theOutcomeSummarySaysOneEventAndOneOutput() {
        var tally = OutcomeTally()
        tally.events = 1
        tally.add(.output([]))
        #expect(tally.summary == "1 event → 1 output, 0 dropped, 0 failed")
        tally.events = 2
        tally.add(.output([]))
        #expect(tally.summary == "2 events → 2 outputs, 0 dropped, 0 failed")
    }

    @Test func theClosestNameIsOneOrTwoEditsAwayAndASwapIsOneEdit() {
        let commands = ["serve", "run", "test", "init", "record", "replay", "bench", "help"]
        #expect(Wording.closest(to: "tets", among: commands) == "test")
        #expect(Wording.closest(to: "rnu", among: commands) == "run")
        #expect(Wording.closest(to: "serv", among: commands) == "serve")
        #expect(Wording.closest(to: "REPLAY", among: commands) == "replay")
        #expect(Wording.closest(to: "recrod", among: commands) == "record")
        #expect(Wording.closest(to: "int", among: commands) == "init")
        // Two edits only in longer names.
        #expect(Wording.closest(to: "ser", among: commands) == nil)
        #expect(Wording.closest(to: "timeMilisecond", among: ["memoryMegabytes", "timeMilliseconds"]) == "timeMilliseconds")
        // Too far from everything: no guess.
        #expect(Wording.closest(to: "deploy", among: commands) == nil)
        #expect(Wording.closest(to: "x", among: commands) == nil)
        #expect(Wording.closest(to: "", among: commands) == nil)
    }

    @Test func editDistanceCountsInsertionsDeletionsSubstitutionsAndSwaps() {
        func distance(_ a: String, _ b: String) -> Int { Wording.editDistance(Array(a), Array(b)) }
        #expect(distance("test", "test") == 0)
        #expect(distance("tets", "test") == 1)
        #expect(distance("tst", "test") == 1)
        #expect(distance("tesst", "test") == 1)
        #expect(distance("best", "test") == 1)
        #expect(distance("", "abc") == 3)
        #expect(distance("kitten", "sitting") == 3)
    }
}
