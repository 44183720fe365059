import SluiceCore
import SluicePython
import SluiceTestSupport
import Testing

/// What the driver does with the objects user code returns, raises, logs or keys by either
/// never runs user code or runs it inside the call, under its limits: a hijacked method ends in
/// that input's time-limit error, never in a stuck engine.
@Suite(.serialized) struct PythonDriverWork {
    static let limits = Limits(timeMilliseconds: 100)
    static let spin = "        while True:\n            pass\n"

    func timed(_ code: String, _ inputs: [String]) throws -> [String] {
        let (lines, elapsed) = try retryingIfSlowerThan(Double(inputs.count) * 100 + 500) {
            try timedLines(code, inputs, on: PythonEngine.shared, limits: Self.limits)
        }
        #expect(elapsed < Double(inputs.count) * 100 + 500, "took \(elapsed) ms")
        return lines
    }

    @Test func aReturnedListSubclassIteratesUnderTheLimit() throws {
        let code = "class Events(list):\n    def __iter__(self):\n\(Self.spin)\ndef transformEvent(event, metadata):\n    return Events([event]) if event.get(\"hijack\") else event\n"
        #expect(try timed(code, [#"{"hijack":true}"#, #"{"a":1}"#]) == ["0 time_limit: time limit of 100 ms exceeded", #"1 output {"a":1}"#])
    }

    @Test func aReturnedClassPropertyRunsUnderTheLimit() throws {
        let looping = "class Sneaky:\n    @property\n    def __class__(self):\n\(Self.spin)\ndef transformEvent(event, metadata):\n    return Sneaky() if event.get(\"hijack\") else event\n"
        #expect(try timed(looping, [#"{"hijack":true}"#, #"{"a":1}"#]) == ["0 time_limit: time limit of 100 ms exceeded", #"1 output {"a":1}"#])
        // Claiming to be a dict does not make it one.
        let lying = "class Liar:\n    @property\n    def __class__(self):\n        return dict\n\ndef transformEvent(event, metadata):\n    return Liar()\n"
        #expect(try timed(lying, ["{}"]) == ["0 unserializable_result: TypeError: Object of type Liar is not JSON serializable"])
    }

    @Test func messageIdsWithHijackedHashOrEqualityInTransformBatchRunUnderTheLimit() throws {
        let inputs = [#"{"message":{"messageId":"m1"},"metadata":{"messageId":"m1"}}"#,
                      #"{"message":{"messageId":"m2"},"metadata":{"messageId":"m2"}}"#]
        for method in ["__hash__(self)", "__eq__(self, other)"] {
            let code = """
            class Id(str):
                def \(method):
                    while True:
                        pass
            \(method.hasPrefix("__eq__") ? "    __hash__ = str.__hash__\n" : "")
            def transformBatch(events, metadata):
                return [dict(event, messageId=Id(event["messageId"])) for event in events]
            """
            #expect(try timed(code, inputs) == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded"], "\(method)")
        }
        // A dict subclass whose get() loops, as a returned element.
        let getter = "class Event(dict):\n    def get(self, key, default=None):\n\(Self.spin)\ndef transformBatch(events, metadata):\n    return [Event(events[0])]\n"
        #expect(try timed(getter, inputs) == ["0 time_limit: time limit of 100 ms exceeded", "1 time_limit: time limit of 100 ms exceeded"])
    }

    @Test func anErrorWhoseTracebackOrClassNameIsHijackedIsDescribedUnderTheLimit() throws {
        let code = """
        class Meta(type):
            def __getattribute__(cls, name):
                while True:
                    pass

        class Odd(Exception, metaclass=Meta):
            pass

        class Sticky(Exception):
            def __getattribute__(self, name):
                while True:
                    pass

        def transformEvent(event, metadata):
            if event.get("odd"):
                raise Odd("odd")
            if event.get("sticky"):
                raise Sticky("sticky")
            return event
        """
        #expect(try timed(code, [#"{"odd":true}"#, #"{"sticky":true}"#, #"{"a":1}"#]) == [
            "0 exception: Odd: (its message could not be produced)", "1 exception: Sticky: (its message could not be produced)",
            #"2 output {"a":1}"#,
        ])
    }

    @Test func aLogArgumentsTextRunsUnderTheLimit() throws {
        let code = "class Loud:\n    def __str__(self):\n\(Self.spin)\ndef transformEvent(event, metadata):\n    if event.get(\"loud\"):\n        log(Loud())\n    return event\n"
        #expect(try timed(code, [#"{"loud":true}"#, #"{"a":1}"#]) == ["0 time_limit: time limit of 100 ms exceeded", #"1 output {"a":1}"#])
    }

    @Test func metadataIsACopyThatUserCodeCannotChangeForLaterCalls() throws {
        let code = """
        def transformEvent(event, metadata):
            first = metadata(event)
            seen = {"source": first.get("sourceId"), "nested": first["mergedTpConfig"].get("k"), "ids": list(first["messageIds"])}
            first["sourceId"] = "changed"
            first["mergedTpConfig"]["k"] = "changed"
            first["messageIds"].append("changed")
            again = metadata(event)
            seen["again"] = [again.get("sourceId"), again["mergedTpConfig"].get("k"), again["messageIds"]]
            return seen
        """
        let input = #"{"message":{"messageId":"m1"},"metadata":{"messageId":"m1","sourceId":"s1","mergedTpConfig":{"k":"v"},"messageIds":["m1"]}}"#
        let expected = #"output {"source":"s1","nested":"v","ids":["m1"],"again":["s1","v",["m1"]]}"#
        let result = try runPython(code, [input, input])
        #expect(result.results.map { render($0) } == ["0 " + expected, "1 " + expected])
        // The metadata of a result is the host's copy of the input's.
        #expect(result.results.map { String(decoding: $0.metadata, as: UTF8.self) }.allSatisfy { $0.contains(#""sourceId":"s1""#) })
    }
}
