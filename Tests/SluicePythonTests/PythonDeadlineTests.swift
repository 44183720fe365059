import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// Every call of a batch gets its own time limit: a regression suite for the deadline signal,
/// which once stopped only the first one or two calls of a batch (the rest ran until the engine
/// monitor ended the process).
@Suite(.serialized) struct PythonDeadlines {
    static let spin = "def transformEvent(event, metadata):\n    if event.get(\"spin\"):\n        while True:\n            pass\n    return event\n"

    @Test func everyLoopingCallOfABatchEndsAtItsOwnLimit() throws {
        let inputs = Array(repeating: #"{"spin":true}"#, count: 8)
        let (lines, elapsed) = try retryingIfSlowerThan(8 * 100 + 400) {
            try timedLines(Self.spin, inputs, on: PythonEngine.shared, limits: Limits(timeMilliseconds: 100))
        }
        #expect(lines == (0..<8).map { "\($0) time_limit: time limit of 100 ms exceeded" })
        #expect(elapsed < 8 * 100 + 400, "took \(elapsed) ms")
    }

    /// The deadline passes inside one C call (the JSON encoder serialising the result) that then
    /// fails with a MemoryError: the signal is handled only at the driver's next call — while it
    /// asks whether that MemoryError was the limit's — and once escaped the driver as an
    /// `engine` failure. It is the call's time limit (or, on a fast machine, its memory limit).
    @Test func aDeadlinePassingInsideCCodeThatThenRunsOutOfMemoryIsALimitNotAnEngineFault() throws {
        let code = "def transformEvent(event, metadata):\n    return {'x': ['y' * 100] * 3_000_000}\n"
        for _ in 0..<3 {
            let (lines, _) = try timedLines(code, ["{}", #"{"n":1}"#], on: PythonEngine.shared,
                                            limits: Limits(timeMilliseconds: 20, memoryMegabytes: 64))
            #expect(lines.count == 2)
            for (index, line) in lines.enumerated() {
                #expect(line == "\(index) time_limit: time limit of 20 ms exceeded" || line == "\(index) memory_limit: memory limit of 64 MB exceeded", "\(line)")
            }
        }
    }

    @Test func innocentEventsBetweenLoopingOnesKeepTheirOutputs() throws {
        var inputs: [String] = []
        var expected: [String] = []
        for index in 0..<12 {
            if index % 3 == 1 {
                inputs.append(#"{"n":\#(index)}"#)
                expected.append(#"\#(index) output {"n":\#(index)}"#)
            } else {
                inputs.append(#"{"spin":true}"#)
                expected.append("\(index) time_limit: time limit of 100 ms exceeded")
            }
        }
        let (lines, elapsed) = try retryingIfSlowerThan(8 * 100 + 400) {
            try timedLines(Self.spin, inputs, on: PythonEngine.shared, limits: Limits(timeMilliseconds: 100))
        }
        #expect(lines == expected)
        #expect(elapsed < 8 * 100 + 400, "took \(elapsed) ms")
    }

    @Test func loopsThatSwallowTheLimitOrSleepAreStoppedInEveryCall() throws {
        let code = """
        import time

        def transformEvent(event, metadata):
            if event.get("sleep"):
                time.sleep(30)
            while True:
                try:
                    while True:
                        pass
                except BaseException:
                    pass
        """
        let inputs = [#"{"sleep":true}"#, "{}", #"{"sleep":true}"#, "{}", "{}", #"{"sleep":true}"#]
        let (lines, elapsed) = try retryingIfSlowerThan(6 * 100 + 600) {
            try timedLines(code, inputs, on: PythonEngine.shared, limits: Limits(timeMilliseconds: 100))
        }
        #expect(lines == (0..<6).map { "\($0) time_limit: time limit of 100 ms exceeded" })
        #expect(elapsed < 6 * 100 + 600, "took \(elapsed) ms")
    }

    @Test func theNextBatchStillHasItsLimit() throws {
        for _ in 0..<3 {
            let (lines, _) = try timedLines(Self.spin, [#"{"spin":true}"#, #"{"a":1}"#, #"{"spin":true}"#], on: PythonEngine.shared,
                                            limits: Limits(timeMilliseconds: 100))
            #expect(lines == ["0 time_limit: time limit of 100 ms exceeded", #"1 output {"a":1}"#, "2 time_limit: time limit of 100 ms exceeded"])
        }
    }
}
