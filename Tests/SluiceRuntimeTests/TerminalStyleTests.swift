import SluiceCore
import SluiceRuntime
import Testing

/// What `--color`, `NO_COLOR`, `TERM` and terminals decide, and the progress line `sluice run` draws.
@Suite struct TerminalStyleTests {
    func style(_ mode: TerminalStyle.ColorMode, stdout: Bool, stderr: Bool = true, _ environment: [String: String] = [:], quiet: Bool = false) -> TerminalStyle {
        TerminalStyle.resolve(mode: mode, stdoutIsTerminal: stdout, stderrIsTerminal: stderr, environment: environment, quiet: quiet)
    }

    @Test func autoColoursATerminalUnlessNoColorOrADumbTerminal() {
        #expect(style(.auto, stdout: true).colour)
        #expect(!style(.auto, stdout: false).colour)
        #expect(!style(.auto, stdout: true, ["NO_COLOR": "1"]).colour)
        #expect(style(.auto, stdout: true, ["NO_COLOR": ""]).colour)  // set but empty: no-color.org says it does not count
        #expect(!style(.auto, stdout: true, ["TERM": "dumb"]).colour)
    }

    @Test func alwaysAndNeverDecideWhateverTheOutputAndTheEnvironment() {
        #expect(style(.always, stdout: false, ["NO_COLOR": "1", "TERM": "dumb"]).colour)
        #expect(!style(.never, stdout: true).colour)
    }

    @Test func theScreenIsClearedOnlyOnATerminalThatAsksForEscapeSequences() {
        #expect(style(.auto, stdout: true).clearsScreen)
        #expect(style(.always, stdout: true).clearsScreen)
        #expect(!style(.auto, stdout: false).clearsScreen)
        #expect(!style(.always, stdout: false).clearsScreen)
        #expect(!style(.never, stdout: true).clearsScreen)
        #expect(!style(.auto, stdout: true, ["NO_COLOR": "1"]).clearsScreen)
        #expect(!style(.auto, stdout: true, ["TERM": "dumb"]).clearsScreen)
    }

    @Test func theProgressLineNeedsStandardErrorOnATerminalAndTheResultsElsewhere() {
        #expect(style(.auto, stdout: false, stderr: true).showsProgress)
        #expect(!style(.auto, stdout: true, stderr: true).showsProgress)  // it would tangle with the results
        #expect(!style(.auto, stdout: false, stderr: false).showsProgress)
        #expect(!style(.auto, stdout: false, stderr: true, quiet: true).showsProgress)
        #expect(!style(.auto, stdout: false, stderr: true, ["TERM": "dumb"]).showsProgress)
        #expect(style(.never, stdout: false, stderr: true).showsProgress)  // colour has nothing to do with it
    }

    @Test func theProgressLineSaysEventsRateFailuresAndTime() {
        #expect(ProgressLine.text(events: 120_000, failed: 3, elapsed: .milliseconds(2500)) == "sluice run: 120000 events, 48000 events/s, 3 failed, 2.5 s")
        #expect(ProgressLine.text(events: 1, failed: 0, elapsed: .seconds(1)) == "sluice run: 1 event, 1 events/s, 0 failed, 1.0 s")
    }

    @Test func theProgressLineWaitsItsDelayRedrawsAtItsIntervalAndIsErasedAtTheEnd() throws {
        final class Written { var parts: [String] = [] }
        let written = Written()
        var tally = OutcomeTally()
        tally.events = 10
        let quiet = ProgressLine(delay: .seconds(60), interval: .zero) { written.parts.append($0) }
        quiet.update(tally)
        quiet.finish()
        #expect(written.parts.isEmpty)  // a short run: nothing drawn, nothing erased

        let line = ProgressLine(delay: .zero, interval: .seconds(60)) { written.parts.append($0) }
        line.update(tally)
        tally.events = 20
        line.update(tally)  // within the interval: not redrawn
        line.finish()
        #expect(written.parts.count == 2)
        #expect(written.parts[0].hasPrefix("\r\u{1B}[Ksluice run: 10 events, "))
        #expect(written.parts[1] == "\r\u{1B}[K")
    }
}
