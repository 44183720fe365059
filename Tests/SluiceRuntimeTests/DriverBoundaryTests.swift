import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

extension Limits_ {
    /// User code the driver runs after a call returns — a toJSON on the output, getters of a thrown
    /// error, a thrown object's toString — runs under that call's time limit, and the output is JSON
    /// the host can take. (Part of the serialized limit suite, on its engine: these tests spin, and
    /// must neither wait for nor slow down the other timed limit tests.)
    @Suite struct WorkAfterTheCall {
        static let limits = Limits(timeMilliseconds: 100)
        static let runtime = Limits_.runtime

        @Test(arguments: [
            ("a looping toJSON on the output", "return { toJSON() { for (;;) {} } };"),
            ("a looping toJSON on Object.prototype", "Object.prototype.toJSON = function () { for (;;) {} }; return { a: 1 };"),
            ("a looping getter on the output", "return { get a() { for (;;) {} } };"),
            ("a looping getter for an error's name", "const error = new Error('x'); Object.defineProperty(error, 'name', { get() { for (;;) {} } }); throw error;"),
            ("a looping getter for an error's message", "const error = new TypeError(); Object.defineProperty(error, 'message', { get() { for (;;) {} } }); throw error;"),
            ("a looping getter for an error's stack", "const error = new RangeError('y'); Object.defineProperty(error, 'stack', { get() { for (;;) {} } }); throw error;"),
            ("a thrown object whose toString loops", "throw { toJSON() { return undefined; }, toString() { for (;;) {} } };"),
            ("a thenable whose then loops", "return { then() { for (;;) {} } };"),
            ("a looping getter on an element of a returned array", "return [{ a: 1 }, { get b() { for (;;) {} } }];"),
        ])
        func userCodeRunByTheDriverEndsWithTheCallsTimeLimit(_ name: String, _ body: String) throws {
            let code = "export function transformEvent(e) { if (e.bad) { \(body) } return e; }"
            let (result, elapsed) = try retryingIfSlowerThan(1500) {
                try timedLines(code, [#"{"n":1}"#, #"{"bad":true}"#, #"{"n":3}"#], language: .javascript, limits: Self.limits, runtime: Self.runtime)
            }
            #expect(result == [#"0 output {"n":1}"#, "1 time_limit: time limit of 100 ms exceeded", #"2 output {"n":3}"#], "\(name)")
            #expect(elapsed < 1500, "took \(elapsed) ms")
        }

        @Test func anAsyncResultsLoopingToJSONEndsWithTheTimeLimitToo() throws {
            let code = "export async function transformEvent(e) { await null; if (e.bad) return { toJSON() { for (;;) {} } }; return e; }"
            let result = try lines(code, [#"{"bad":true}"#, #"{"n":2}"#], limits: Self.limits, runtime: Self.runtime)
            #expect(result == ["0 time_limit: time limit of 100 ms exceeded", #"1 output {"n":2}"#])
        }

        @Test func aLoopingToJSONInTransformBatchFailsTheBatchOnly() throws {
            let code = "export function transformBatch(events) { return events.map((e) => e.bad ? { messageId: e.messageId, toJSON() { for (;;) {} } } : e); }"
            let result = try lines(code, [#"{"messageId":"a"}"#, #"{"messageId":"b","bad":true}"#], limits: Self.limits, runtime: Self.runtime)
            #expect(result == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded"])
        }

        @Test(arguments: [
            ("Object.prototype.toJSON = () => 5; return { a: 1 };", "invalid_result: returned event from transformEvent(event) is not an object"),
            ("return { toJSON() { return [1, 2]; } };", "invalid_result: returned event from transformEvent(event) is not an object"),
            (#"return { toJSON() { return '{"forged":true}'; } };"#, "invalid_result: returned event from transformEvent(event) is not an object"),
            ("return { toJSON() { return null; } };", "invalid_result: returned event from transformEvent(event) is not an object"),
            ("return [{ toJSON() { return 7; } }];", "invalid_result: returned event in events array from transformEvent(event) is not an object"),
            ("return { toJSON() { return undefined; } };", "unserializable_result: returned event cannot be serialised as JSON"),
        ])
        func aToJSONThatMakesTheOutputANonObjectIsAnError(_ body: String, _ expected: String) throws {
            let code = "export function transformEvent(e) { if (e.bad) { \(body) } return e; }"
            #expect(try lines(code, [#"{"bad":true}"#, #"{"n":2}"#], runtime: Self.runtime) == ["0 \(expected)", #"1 output {"n":2}"#])
        }

        @Test func errorsWhoseDescriptionThrowsAreStillTheirEventsError() throws {
            let code = """
            export function transformEvent(e) {
              if (e.bad) { const error = new Error('x'); Object.defineProperty(error, 'message', { get() { throw new Error('no'); } }); throw error; }
              return e;
            }
            """
            #expect(try lines(code, [#"{"bad":true}"#, #"{"n":2}"#], runtime: Self.runtime) == [
                "0 exception: Error: the thrown value could not be described (reading it threw)", #"1 output {"n":2}"#,
            ])
        }

        /// After a memory-limit hit the modules are evaluated afresh before the next call. That runs
        /// module code, so it must run under a call's time limit — not inside the host's `fail`, where
        /// the watchdog is paused (a loop there would hang until the monitor ends the process).
        @Test func theModulesReEvaluationAfterAMemoryHitRunsUnderTheTimeLimit() throws {
            let code = """
            globalThis.evaluations = (globalThis.evaluations || 0) + 1;
            if (globalThis.evaluations > 1) { for (;;) {} }
            export function transformEvent(e) {
              if (e.bomb) { const keep = []; for (;;) keep.push(new Array(1e6).fill(1)); }
              return e;
            }
            """
            let start = ContinuousClock.now
            // The bomb reaches 64 MB in well under a second even on a starved CPU; the loop then ends
            // after the limit, once, and every remaining event gets that error.
            let result = try lines(code, [#"{"bomb":true}"#, #"{"n":2}"#, #"{"n":3}"#], limits: Limits(timeMilliseconds: 1000, memoryMegabytes: 64),
                                   runtime: Self.runtime)
            #expect(result == [
                "0 memory_limit: memory limit of 64 MB exceeded",
                "1 time_limit: time limit of 1000 ms exceeded", "2 time_limit: time limit of 1000 ms exceeded",
            ])
            #expect(ContinuousClock.now - start < .seconds(4))
        }

        @Test func aModuleThatFailsToReEvaluateFailsTheRemainingEventsWithItsError() throws {
            let code = """
            globalThis.evaluations = (globalThis.evaluations || 0) + 1;
            if (globalThis.evaluations > 1) throw new Error("second evaluation");
            export function transformEvent(e) {
              if (e.bomb) { const keep = []; for (;;) keep.push(new Array(1e6).fill(1)); }
              return e;
            }
            """
            let result = try lines(code, [#"{"bomb":true}"#, #"{"n":2}"#, "nope"], limits: Limits(timeMilliseconds: 5000, memoryMegabytes: 64),
                                   runtime: Self.runtime)
            #expect(result == [
                "0 memory_limit: memory limit of 64 MB exceeded", "1 exception: Error: second evaluation",
                #"2 invalid_input: invalid JSON: JSON Parse error: Unexpected identifier "nope""#,
            ])
        }
    }
}

/// `metadata(event)` hands out a fresh copy each time: what one call does to it is invisible to
/// every other call, and nothing user code put on the prototypes intercepts the copy.
@Suite struct MetadataCopies {
    static let inputs = [
        #"{"message":{"messageId":"a","n":1},"metadata":{"messageId":"a","sourceId":"s","sourceTpConfig":{"rules":[{"k":1}]},"messageIds":["a"]}}"#,
        #"{"message":{"messageId":"b","n":2},"metadata":{"messageId":"b","sourceId":"t"}}"#,
    ]

    @Test(arguments: [false, true])
    func changesToACopyReachNoOtherCall(_ batch: Bool) throws {
        let code = batch
            ? """
            export function transformBatch(events, metadata) {
              const first = metadata(events[0]);
              first.sourceId = "forged"; first.sourceTpConfig.rules[0].k = 99; first.messageIds.push("z");
              return events.map((e) => ({ ...e, meta: metadata(e), fresh: metadata(e) !== metadata(e) }));
            }
            """
            : """
            export function transformEvent(e, metadata) {
              const m = metadata(e);
              const other = metadata({ messageId: "a" });
              const seen = JSON.stringify(other);
              m.sourceId = "forged"; other.sourceTpConfig.rules[0].k = 99; other.messageIds.push("z"); delete other.sourceId;
              return { n: e.n, seen, again: metadata(e).sourceId, fresh: metadata(e) !== metadata(e) };
            }
            """
        let expected = batch
            ? [
                #"0 output {"messageId":"a","n":1,"meta":{"messageId":"a","sourceId":"s","sourceTpConfig":{"rules":[{"k":1}]},"messageIds":["a"]},"fresh":true}"#,
                #"1 output {"messageId":"b","n":2,"meta":{"messageId":"b","sourceId":"t"},"fresh":true}"#,
            ]
            : [
                #"0 output {"n":1,"seen":"{\"messageId\":\"a\",\"sourceId\":\"s\",\"sourceTpConfig\":{\"rules\":[{\"k\":1}]},\"messageIds\":[\"a\"]}","again":"s","fresh":true}"#,
                #"1 output {"n":2,"seen":"{\"messageId\":\"a\",\"sourceId\":\"s\",\"sourceTpConfig\":{\"rules\":[{\"k\":1}]},\"messageIds\":[\"a\"]}","again":"t","fresh":true}"#,
            ]
        #expect(try lines(code, Self.inputs) == expected)
    }

    @Test func setterOnObjectPrototypeCannotInterceptTheCopy() throws {
        let code = """
        export function transformEvent(e, metadata) {
          if (e.n === 1) {
            for (const key of ["sourceId", "messageId", "rules", "0", "k"]) {
              Object.defineProperty(Object.prototype, key, { set(v) { throw new Error("intercepted " + key); }, get() { return "forged"; }, configurable: true });
              Object.defineProperty(Array.prototype, key, { set(v) { throw new Error("intercepted " + key); }, get() { return "forged"; }, configurable: true });
            }
            return null;
          }
          const m = metadata(e);
          return { source: m.sourceId, id: m.messageId, first: m.messageIds[0] };
        }
        """
        let inputs = [#"{"n":1}"#, Self.inputs[0].replacingOccurrences(of: #""n":1"#, with: #""n":3"#)]
        #expect(try lines(code, inputs) == ["0 dropped", #"1 output {"source":"s","id":"a","first":"a"}"#])
    }

    /// The lookup uses the messageIds the events had when the batch began: an earlier call that
    /// changes its own event's messageId cannot take over another event's metadata.
    @Test func anEventThatChangesItsMessageIdCannotTakeOverAnotherEventsMetadata() throws {
        let code = """
        export function transformEvent(e, metadata) {
          if (e.n === 1) { e.messageId = "b"; return null; }
          return { n: e.n, source: metadata(e).sourceId };
        }
        """
        #expect(try lines(code, Self.inputs) == ["0 dropped", #"1 output {"n":2,"source":"t"}"#])
    }
}
