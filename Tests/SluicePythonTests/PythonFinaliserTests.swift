import Foundation
import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// Finalisers are user code: they run under the time limit of the call that drops the last
/// reference, or, for what the batch still holds at its end, under the limits of the batch's
/// release — never later, in the driver or in another tenant's batch.
@Suite(.serialized) struct PythonFinalisers {
    static let limits = Limits(timeMilliseconds: 100)

    static let stuck = """
    class Stuck:
        def __del__(self):
            while True:
                pass


    def stuck_generator():
        try:
            yield 1
        finally:
            while True:
                pass


    """

    @Test func loopingFinalisersOfObjectsTheBatchKeepsEndWithTheBatch() throws {
        let code = Self.stuck + """
        kept = []

        def transformEvent(event, metadata):
            kept.append(Stuck())
            generator = stuck_generator()
            next(generator)
            kept.append(generator)
            event["stuck"] = str(len(kept))
            copy = metadata(event)
            copy["stuck"] = Stuck()
            kept.append(copy)
            return event
        """
        let inputs = (0..<6).map { #"{"n":\#($0)}"# }
        let (lines, elapsed) = try retryingIfSlowerThan(1500) { try timedLines(code, inputs, on: PythonEngine.shared, limits: Self.limits) }
        #expect(lines == (0..<6).map { #"\#($0) output {"n":\#($0),"stuck":"\#($0 * 3 + 2)"}"# })
        #expect(elapsed < 1500, "took \(elapsed) ms")
        // The process is healthy and the next batch runs with its own limits.
        #expect(try pythonLines("def transformEvent(event, metadata):\n    return event\n", [#"{"after":1}"#]) == [#"0 output {"after":1}"#])
    }

    @Test func aFinaliserThatRunsInsideACallCountsAgainstThatCall() throws {
        let code = Self.stuck + """
        def transformEvent(event, metadata):
            if event.get("drop"):
                Stuck()
            return event
        """
        let inputs = [#"{"a":1}"#, #"{"drop":true}"#, #"{"b":2}"#, #"{"drop":true}"#, #"{"c":3}"#]
        let (lines, elapsed) = try retryingIfSlowerThan(1000) { try timedLines(code, inputs, on: PythonEngine.shared, limits: Self.limits) }
        #expect(lines == [#"0 output {"a":1}"#, "1 time_limit: time limit of 100 ms exceeded", #"2 output {"b":2}"#,
                          "3 time_limit: time limit of 100 ms exceeded", #"4 output {"c":3}"#])
        #expect(elapsed < 1000, "took \(elapsed) ms")
    }

    @Test func objectsUserCodeHidInTheEventsListOrItsEntryPointAreReleasedUnderTheLimits() throws {
        let batch = Self.stuck + """
        def transformBatch(events, metadata):
            for _ in range(50):
                events.append(Stuck())
            return [dict(event) for event in events if isinstance(event, dict)]
        """
        let inputs = [#"{"message":{"messageId":"m1"},"metadata":{"messageId":"m1"}}"#,
                      #"{"message":{"messageId":"m2"},"metadata":{"messageId":"m2"}}"#]
        let (batchLines, batchElapsed) = try retryingIfSlowerThan(1000) { try timedLines(batch, inputs, on: PythonEngine.shared, limits: Self.limits) }
        #expect(batchLines == [#"0 output {"messageId":"m1"}"#, #"1 output {"messageId":"m2"}"#])
        #expect(batchElapsed < 1000, "took \(batchElapsed) ms")

        // The entry point removes itself from its module: the driver's reference is the last.
        let vanishing = Self.stuck + """
        def make():
            held = [Stuck() for _ in range(50)]

            def transformEvent(event, metadata):
                global transformEvent
                transformEvent = None
                return {"held": len(held)}
            return transformEvent

        transformEvent = make()
        """
        let (lines, elapsed) = try retryingIfSlowerThan(1000) { try timedLines(vanishing, ["{}", "{}"], on: PythonEngine.shared, limits: Self.limits) }
        #expect(lines == [#"0 output {"held":50}"#, #"1 output {"held":50}"#])
        #expect(elapsed < 1000, "took \(elapsed) ms")
    }

    @Test func manySlowFinalisersAreCutOffAtTheLimit() throws {
        let code = """
        import time

        class Slow:
            def __del__(self):
                time.sleep(0.05)

        kept = []

        def transformEvent(event, metadata):
            kept.extend(Slow() for _ in range(1000))
            return event
        """
        let (lines, elapsed) = try retryingIfSlowerThan(1000) { try timedLines(code, [#"{"a":1}"#], on: PythonEngine.shared, limits: Self.limits) }
        #expect(lines == [#"0 output {"a":1}"#])
        #expect(elapsed < 1000, "took \(elapsed) ms")
    }

    @Test func anObjectLeftInAnInputEventIsReleasedWithinTheBatch() throws {
        let code = Self.stuck + """
        class Witness:
            def __del__(self):
                log("released")

        def transformEvent(event, metadata):
            event["witness"] = Witness()
            event["stuck"] = Stuck()
            return {"n": event["n"]}
        """
        let (lines, elapsed) = try retryingIfSlowerThan(1000) { try timedLines(code, [#"{"n":1}"#, #"{"n":2}"#], on: PythonEngine.shared, limits: Self.limits) }
        #expect(lines == [#"0 output {"n":1}"#, #"1 output {"n":2}"#])
        #expect(elapsed < 1000, "took \(elapsed) ms")
        let result = try runPython(code.replacingOccurrences(of: "    event[\"stuck\"] = Stuck()\n", with: ""), [#"{"n":1}"#])
        #expect(result.logs.map(\.text) == ["released"])
    }

    @Test func objectsLeftInSharedCachesAreReleasedUnderTheLimits() throws {
        // The engine empties these caches after the batch (their keys could run user code in
        // another batch's lookups): what that frees is the batch's, released under its limits.
        let code = """
        import struct, urllib.parse, zoneinfo

        class Sticky(str):
            __hash__ = str.__hash__

            def __del__(self):
                while True:
                    pass

        def transformEvent(event, metadata):
            struct.calcsize(Sticky("<i"))
            urllib.parse.urlsplit(Sticky("http://x/"))
            zoneinfo.ZoneInfo.clear_cache()
            zoneinfo.ZoneInfo(Sticky("UTC"))
            return event
        """
        let (lines, elapsed) = try retryingIfSlowerThan(1500) { try timedLines(code, [#"{"a":1}"#], on: PythonEngine.shared, limits: Self.limits) }
        #expect(lines == [#"0 output {"a":1}"#])
        #expect(elapsed < 1500, "took \(elapsed) ms")
        #expect(try pythonLines("import struct, zoneinfo\n\ndef transformEvent(e, m):\n    return {\"s\": struct.calcsize(\"<i\"), \"z\": zoneinfo.ZoneInfo(\"UTC\").key}\n", ["{}"])
            == [#"0 output {"s":4,"z":"UTC"}"#])
    }

    @Test func aFinaliserCannotReachTheNextTenant() throws {
        // A cycle with a finaliser: only the collector frees it. It must run in its own batch.
        let code = """
        class Leaky:
            def __del__(self):
                log("finaliser of tenant A")

        def transformEvent(event, metadata):
            a = Leaky()
            a.itself = a
            return event
        """
        let first = try runPython(code, ["{}"])
        #expect(first.logs.map(\.text) == ["finaliser of tenant A"])
        let next = try runPython("def transformEvent(event, metadata):\n    return event\n", ["{}"])
        #expect(next.logs.isEmpty)
    }
}
