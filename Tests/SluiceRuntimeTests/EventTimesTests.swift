import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

/// With `measuresEventTimes` (sluice bench) each input gets the time its call took; a call that
/// works longer shows as longer, whatever else the batch holds.
@Suite struct EventTimes {
    private func run(_ code: String, _ language: Language, items: [String], measures: Bool) throws -> BatchResult {
        let runtime = Runtime(libraries: NoLibraries())
        let compiled = try runtime.compile(TransformationSource(name: "timed", language: language, fileName: "timed.\(language.fileExtension)", code: code))
        var batch = Batch(items: items.map { Array($0.utf8) })
        batch.measuresEventTimes = measures
        return runtime.run(compiled, batch: batch, limits: .defaults)
    }

    @Test(arguments: [Language.javascript, .python])
    func eachInputGetsItsOwnCallsTime(_ language: Language) throws {
        // Input 1 spins for 30 ms of wall-clock time; the others return at once; input 3 is not JSON.
        let code = language == .javascript
            ? "export function transformEvent(e) { if (e.n === 1) { const end = Date.now() + 30; while (Date.now() < end) {} } return e.n === 2 ? null : e; }"
            : "import time\ndef transformEvent(e, m):\n    if e['n'] == 1:\n        end = time.monotonic() + 0.03\n        while time.monotonic() < end:\n            pass\n    return None if e['n'] == 2 else e\n"
        let items = [#"{"n":0}"#, #"{"n":1}"#, #"{"n":2}"#, "{nope"]
        let result = try run(code, language, items: items, measures: true)
        #expect(result.results.map(\.outcome.name) == ["output", "output", "dropped", "invalid_input"])
        let times = result.eventNanoseconds
        try #require(times.count == 4)
        #expect(times[1] >= 25_000_000)  // Date.now() counts whole milliseconds
        #expect(times[0] < times[1] && times[2] < times[1])
        #expect(times[0] > 0 && times[2] > 0)
        #expect(times[3] == 0)  // never called
        // Off by default: nothing measured, nothing reported.
        #expect(try run(code, language, items: items, measures: false).eventNanoseconds.isEmpty)
    }

    @Test(arguments: [Language.javascript, .python])
    func aTransformBatchCallsTimeIsSharedByItsInputs(_ language: Language) throws {
        let code = language == .javascript
            ? "export function transformBatch(events) { const end = Date.now() + 20; while (Date.now() < end) {} return events; }"
            : "import time\ndef transformBatch(events, m):\n    end = time.monotonic() + 0.02\n    while time.monotonic() < end:\n        pass\n    return events\n"
        let result = try run(code, language, items: [#"{"messageId":"a"}"#, #"{"messageId":"b"}"#], measures: true)
        let times = result.eventNanoseconds
        try #require(times.count == 2)
        #expect(times[0] == times[1])
        #expect(times[0] >= 9_000_000)  // 20 ms shared by two, less Date.now()'s whole milliseconds
    }

    /// With `measuresPhases` (sluice bench's breakdown) the engine says where the batch's time
    /// went: its phases in order, the one that does the work holding it, and no more time than
    /// the run took.
    @Test(arguments: [Language.javascript, .python])
    func phasesSayWhereTheBatchsTimeWent(_ language: Language) throws {
        // Input 1 spins for 30 ms inside its call.
        let code = language == .javascript
            ? "export function transformEvent(e) { if (e.n === 1) { const end = Date.now() + 30; while (Date.now() < end) {} } return e; }"
            : "import time\ndef transformEvent(e, m):\n    if e['n'] == 1:\n        end = time.monotonic() + 0.03\n        while time.monotonic() < end:\n            pass\n    return e\n"
        let runtime = Runtime(libraries: NoLibraries())
        let compiled = try runtime.compile(TransformationSource(name: "timed", language: language, fileName: "timed.\(language.fileExtension)", code: code))
        var batch = Batch(items: [#"{"n":0}"#, #"{"n":1}"#, #"{"n":2}"#].map { Array($0.utf8) })
        batch.measuresEventTimes = true
        batch.measuresPhases = true
        let start = monotonicNanoseconds()
        let result = runtime.run(compiled, batch: batch, limits: .defaults)
        let elapsed = monotonicNanoseconds() - start
        #expect(result.results.map(\.outcome.name) == ["output", "output", "output"])
        let expected = language == .javascript
            ? ["input text", "begin", "metadata", "calls", "finish", "records"]
            : ["input text", "metadata", "driver: parse, release", "calls", "records"]
        #expect(result.phases.map(\.name) == expected)
        let calls = try #require(result.phases.first { $0.name == "calls" })
        #expect(calls.nanoseconds >= 25_000_000)  // Date.now() counts whole milliseconds
        #expect(result.phases.reduce(0) { $0 + $1.nanoseconds } <= elapsed)
        // Off by default.
        batch.measuresPhases = false
        #expect(runtime.run(compiled, batch: batch, limits: .defaults).phases.isEmpty)
    }
}
