import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// CONTRACT.md §3: limits end the call that hit them within the limit plus 50 ms. What the
/// results are is said by the engine cases (Tests/Cases/limits); how long they take, here.
@Suite(.serialized) struct Limits_ {
    /// A runtime of its own, so other tests' batches do not queue on its engine.
    static let runtime = Runtime(libraries: NoLibraries())

    func timed(_ code: String, _ inputs: [String], limits: Limits) throws -> (lines: [String], milliseconds: Double) {
        try timedLines(code, inputs, language: .javascript, limits: limits, runtime: Self.runtime)
    }

    @Test func anInfiniteLoopEndsItsEventOnlyWithinTheLimitPlus50Milliseconds() throws {
        let code = "export function transformEvent(e) { if (e.spin) { while (true) {} } return e; }"
        let (result, elapsed) = try retryingIfSlowerThan(350) { try timed(code, [#"{"a":1}"#, #"{"spin":true}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 300)) }
        #expect(result == [#"0 output {"a":1}"#, "1 time_limit: time limit of 300 ms exceeded", #"2 output {"b":2}"#])
        #expect(elapsed < 350, "took \(elapsed) ms")
        // The engine is still usable.
        #expect(try lines(code, [#"{"c":3}"#], runtime: Self.runtime) == [#"0 output {"c":3}"#])
    }

    @Test func aLoopAfterAnAwaitIsStoppedToo() throws {
        let code = "export async function transformEvent(e) { await null; if (e.spin) { for (;;) {} } return e; }"
        let (result, elapsed) = try retryingIfSlowerThan(250) { try timed(code, [#"{"spin":true}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 200)) }
        #expect(result == ["0 time_limit: time limit of 200 ms exceeded", #"1 output {"b":2}"#])
        #expect(elapsed < 250, "took \(elapsed) ms")
    }

    @Test func aPromiseJobLeftBehindBySynchronousCodeFailsItsEvent() throws {
        let code = "export function transformEvent(e) { if (e.n === 2) Promise.resolve().then(() => { for (;;) {} }); return e; }"
        let (result, elapsed) = try retryingIfSlowerThan(200) { try timed(code, [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#], limits: Limits(timeMilliseconds: 150)) }
        #expect(result == [#"0 output {"n":1}"#, "1 time_limit: time limit of 150 ms exceeded", #"2 output {"n":3}"#])
        #expect(elapsed < 200, "took \(elapsed) ms")
    }
}
