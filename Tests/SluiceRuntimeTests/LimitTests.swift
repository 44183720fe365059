import SluiceCore
import SluiceRuntime
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// CONTRACT.md §3: limits end the call that hit them, with a message naming the limit; the other
/// events of the batch still run and the engine stays usable.
@Suite(.serialized) struct Limits_ {
    /// A runtime of its own, so memory measurements are not disturbed by other tests' batches.
    static let runtime = Runtime(libraries: InMemoryLibraries([
        LibrarySource(importName: "spin", language: .javascript, fileName: "spin.js",
                      code: "export function spin() { for (;;) {} }"),
    ]))

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

    @Test func aLoopInALibraryOrAFinallyIsStopped() throws {
        let library = "import { spin } from \"spin\";\nexport function transformEvent(e) { spin(); }"
        #expect(try timed(library, [#"{"a":1}"#], limits: Limits(timeMilliseconds: 100)).lines
            == ["0 time_limit: time limit of 100 ms exceeded"])
        let finallyLoop = "export function transformEvent(e) { try { for (;;) {} } finally { for (;;) {} } }"
        #expect(try timed(finallyLoop, [#"{"a":1}"#, #"{"b":1}"#], limits: Limits(timeMilliseconds: 100)).lines
            == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded"])
    }

    @Test func aNativeStretchThatReturnsPastTheLimitStillFailsItsEvent() throws {
        // One catastrophic backtrack (~350 ms here) runs in the regular-expression engine, where
        // the watchdog cannot stop it; it returns before the monitor's 2 s grace. Its event gets
        // the time-limit error as if the watchdog had stopped it, split outputs included.
        let code = """
            export function transformEvent(e) {
              const r = e.n > 1 ? /^(a+)+$/.test("a".repeat(e.n) + "b") : false;
              return [{ r, n: e.n }, { n: e.n }];
            }
            """
        #expect(try timed(code, [#"{"n":1}"#, #"{"n":26}"#, #"{"n":1}"#], limits: Limits(timeMilliseconds: 50)).lines
            == [#"0 output {"r":false,"n":1}"#, #"0 output {"n":1}"#, "1 time_limit: time limit of 50 ms exceeded",
                #"2 output {"r":false,"n":1}"#, #"2 output {"n":1}"#])
    }

    @Test func catchingTheTerminationIsImpossible() throws {
        let code = "export function transformEvent(e) { try { for (;;) {} } catch (x) { return {caught: true}; } }"
        #expect(try timed(code, [#"{"a":1}"#], limits: Limits(timeMilliseconds: 100)).lines == ["0 time_limit: time limit of 100 ms exceeded"])
    }

    @Test func aLoopInTransformBatchFailsTheBatch() throws {
        let code = "export function transformBatch(events) { for (;;) {} }"
        #expect(try timed(code, [#"{"a":1}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 100)).lines
            == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded"])
    }

    @Test func aLoopAtModuleLevelFailsEveryEvent() throws {
        let code = "for (;;) {}\nexport function transformEvent(e) { return e; }"
        #expect(try timed(code, [#"{"a":1}"#, "nope"], limits: Limits(timeMilliseconds: 100)).lines
            == ["0 time_limit: time limit of 100 ms exceeded", #"1 invalid_input: invalid JSON: JSON Parse error: Unexpected identifier "nope""#])
    }

    @Test func aPromiseJobLeftBehindBySynchronousCodeFailsItsEvent() throws {
        let code = "export function transformEvent(e) { if (e.n === 2) Promise.resolve().then(() => { for (;;) {} }); return e; }"
        let (result, elapsed) = try retryingIfSlowerThan(200) { try timed(code, [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#], limits: Limits(timeMilliseconds: 150)) }
        #expect(result == [#"0 output {"n":1}"#, "1 time_limit: time limit of 150 ms exceeded", #"2 output {"n":3}"#])
        #expect(elapsed < 200, "took \(elapsed) ms")
    }

    @Test func anAbandonedPromiseCannotSettleALaterEvent() throws {
        let code = """
        let resolveLater;
        export async function transformEvent(event) {
          if (event.n === 1) return new Promise((resolve) => { resolveLater = resolve; });
          if (resolveLater) resolveLater({ stale: true });
          await null;
          return event;
        }
        """
        #expect(try timed(code, [#"{"n":1}"#, #"{"n":2}"#], limits: .defaults).lines
            == ["0 exception: Error: the promise returned by transformEvent never settled", #"1 output {"n":2}"#])
    }

    @Test func aPromiseThatNeverSettlesIsAnError() throws {
        let code = "export function transformEvent(e) { return new Promise(() => {}); }"
        #expect(try timed(code, [#"{"a":1}"#], limits: Limits(timeMilliseconds: 100)).lines
            == ["0 exception: Error: the promise returned by transformEvent never settled"])
    }

    @Test func anArrayMemoryBombEndsWithTheMemoryLimitAndTheNextCallWorks() throws {
        let code = "export function transformEvent(e) { if (e.bomb) { let a = []; for (;;) a.push(new Array(1e6).fill(0)); } return e; }"
        let (result, _) = try timed(code, [#"{"bomb":true}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 64))
        #expect(result == ["0 memory_limit: memory limit of 64 MB exceeded", #"1 output {"b":2}"#])
        #expect(try lines(code, [#"{"c":3}"#], runtime: Self.runtime) == [#"0 output {"c":3}"#])
    }

    @Test func aStringDoublingBombEndsWithTheMemoryLimit() throws {
        let code = "export function transformEvent(e) { let s = 'x'; for (;;) { s = s + s; s.charCodeAt(s.length - 1); } }"
        let (result, _) = try timed(code, [#"{"a":1}"#], limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 64))
        #expect(result == ["0 memory_limit: memory limit of 64 MB exceeded"])
    }

    @Test func moduleLevelStateHoldingMemoryIsReleasedAfterAHit() throws {
        let code = "const keep = [];\nexport function transformEvent(e) { if (e.bomb) { for (;;) keep.push(new Array(1e6).fill(1)); } return {kept: keep.length}; }"
        let (result, _) = try timed(code, [#"{"bomb":true}"#, #"{"b":2}"#], limits: Limits(timeMilliseconds: 10_000, memoryMegabytes: 64))
        #expect(result == ["0 memory_limit: memory limit of 64 MB exceeded", #"1 output {"kept":0}"#])
    }

    @Test func deepRecursionIsAStackOverflowError() throws {
        let code = "function down(n) { return 1 + down(n + 1); }\nexport function transformEvent(e) { if (e.deep) return {n: down(0)}; return e; }"
        let result = try lines(code, [#"{"deep":true}"#, #"{"b":2}"#], runtime: Self.runtime)
        #expect(result == ["0 exception: RangeError: Maximum call stack size exceeded.", #"1 output {"b":2}"#])
    }
}
