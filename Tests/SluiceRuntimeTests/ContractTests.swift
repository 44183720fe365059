import SluiceCore
import SluiceRuntime
import Testing

/// CONTRACT.md §1, every row, for `transformEvent` and `transformBatch`, each as a plain and as
/// an `async` function (the async variant awaits before doing its work, so the result really
/// arrives through a promise).
struct ContractCase: CustomTestStringConvertible, Sendable {
    var name: String
    /// JavaScript with `ASYNC ` before `function` and `AWAIT;` where the async variant awaits.
    var javascript: String
    /// The same function in Python (synchronous: RudderStack's Python contract has no async).
    var python: String
    var inputs: [String]
    var expected: [String]
    /// Where Python's messages differ (exception classes, JSON parser messages).
    var pythonExpected: [String]? = nil

    var testDescription: String { name }

    func code(async: Bool) -> String {
        javascript
            .replacingOccurrences(of: "ASYNC ", with: async ? "async " : "")
            .replacingOccurrences(of: "AWAIT;", with: async ? "await null;" : "")
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

let envelopeA = #"{"message":{"messageId":"a","n":1},"metadata":{"sourceId":"s","messageId":"a"}}"#
let envelopeB = #"{"message":{"messageId":"b","n":2},"metadata":{"sourceId":"s","messageId":"b"}}"#
let envelopeC = #"{"message":{"messageId":"c","n":3},"metadata":{"sourceId":"s","messageId":"c"}}"#

let eventCases: [ContractCase] = [
    ContractCase(
        name: "a plain object is one output carrying the input's metadata",
        javascript: "export ASYNC function transformEvent(event, metadata) { AWAIT; event.seen = metadata(event).sourceId; return event; }",
        python: """
        def transformEvent(event, metadata):
            event["seen"] = metadata(event).get("sourceId")
            return event
        """,
        inputs: [envelopeA],
        expected: [#"0 output {"messageId":"a","n":1,"seen":"s"}"#]
    ),
    ContractCase(
        name: "null and undefined drop the event",
        javascript: "export ASYNC function transformEvent(event) { AWAIT; if (event.n === 1) return null; if (event.n === 2) return undefined; }",
        python: """
        def transformEvent(event, metadata):
            if event["n"] == 1:
                return None
        """,
        inputs: [envelopeA, envelopeB, envelopeC],
        expected: ["0 dropped", "1 dropped", "2 dropped"]
    ),
    ContractCase(
        name: "an array of objects is one output per element",
        javascript: "export ASYNC function transformEvent(event) { AWAIT; return [{i: 1, id: event.messageId}, {i: 2, id: event.messageId}]; }",
        python: """
        def transformEvent(event, metadata):
            return [{"i": 1, "id": event["messageId"]}, {"i": 2, "id": event["messageId"]}]
        """,
        inputs: [envelopeA, envelopeB],
        expected: [#"0 output {"i":1,"id":"a"}"#, #"0 output {"i":2,"id":"a"}"#, #"1 output {"i":1,"id":"b"}"#, #"1 output {"i":2,"id":"b"}"#]
    ),
    ContractCase(
        name: "an empty array drops the event",
        javascript: "export ASYNC function transformEvent(event) { AWAIT; return []; }",
        python: """
        def transformEvent(event, metadata):
            return []
        """,
        inputs: [envelopeA],
        expected: ["0 dropped"]
    ),
    ContractCase(
        name: "an array with a non-object element is one error",
        javascript: "export ASYNC function transformEvent(event) { AWAIT; return event.n === 1 ? [{ok: true}, 5] : [event, [1]]; }",
        python: """
        def transformEvent(event, metadata):
            return [{"ok": True}, 5] if event["n"] == 1 else [event, [1]]
        """,
        inputs: [envelopeA, envelopeB],
        expected: [
            "0 invalid_result: returned event in events array from transformEvent(event) is not an object",
            "1 invalid_result: returned event in events array from transformEvent(event) is not an object",
        ]
    ),
    ContractCase(
        name: "anything else is an error",
        javascript: #"export ASYNC function transformEvent(event) { AWAIT; return ["text", 42, true][event.n - 1]; }"#,
        python: """
        def transformEvent(event, metadata):
            return ["text", 42, True][event["n"] - 1]
        """,
        inputs: [envelopeA, envelopeB, envelopeC],
        expected: [
            "0 invalid_result: returned event from transformEvent(event) is not an object",
            "1 invalid_result: returned event from transformEvent(event) is not an object",
            "2 invalid_result: returned event from transformEvent(event) is not an object",
        ]
    ),
    ContractCase(
        name: "a throw fails only its event",
        javascript: "export ASYNC function transformEvent(event) { AWAIT; if (event.n === 2) { const x = undefined; return x.y; } return event; }",
        python: """
        def transformEvent(event, metadata):
            if event["n"] == 2:
                x = None
                return x.y
            return event
        """,
        inputs: [envelopeA, envelopeB, envelopeC],
        expected: [
            #"0 output {"messageId":"a","n":1}"#,
            "1 exception: TypeError: undefined is not an object (evaluating 'x.y')",
            #"2 output {"messageId":"c","n":3}"#,
        ],
        pythonExpected: [#"0 output {"messageId":"a","n":1}"#, "1 exception: AttributeError: 'NoneType' object has no attribute 'y'", #"2 output {"messageId":"c","n":3}"#]
    ),
    ContractCase(
        name: "throwing a non-Error value is an ordinary per-event error",
        javascript: #"export ASYNC function transformEvent(event) { AWAIT; if (event.n === 1) throw "plain text"; if (event.n === 2) throw {code: 7}; return event; }"#,
        python: """
        class Oops(Exception):
            pass

        def transformEvent(event, metadata):
            if event["n"] == 1:
                raise Oops("plain text")
            if event["n"] == 2:
                raise KeyError("code")
            return event
        """,
        inputs: [envelopeA, envelopeB, envelopeC],
        expected: [
            "0 exception: Uncaught string: plain text",
            #"1 exception: Uncaught object: {"code":7}"#,
            #"2 output {"messageId":"c","n":3}"#,
        ],
        pythonExpected: ["0 exception: Oops: plain text", "1 exception: KeyError: 'code'", #"2 output {"messageId":"c","n":3}"#]
    ),
    ContractCase(
        name: "metadata(event) looks up by messageId and is {} when unknown",
        javascript: "export ASYNC function transformEvent(event, metadata) { AWAIT; return {known: metadata(event), other: metadata({messageId: 'b'}), unknown: metadata({messageId: 'zz'}), notObject: metadata(5)}; }",
        python: """
        def transformEvent(event, metadata):
            return {"known": metadata(event), "other": metadata({"messageId": "b"}), "unknown": metadata({"messageId": "zz"}), "notObject": metadata(5)}
        """,
        inputs: [envelopeA, envelopeB],
        expected: [
            #"0 output {"known":{"sourceId":"s","messageId":"a"},"other":{"sourceId":"s","messageId":"b"},"unknown":{},"notObject":{}}"#,
            #"1 output {"known":{"sourceId":"s","messageId":"b"},"other":{"sourceId":"s","messageId":"b"},"unknown":{},"notObject":{}}"#,
        ]
    ),
    ContractCase(
        name: "a bare message is its own event",
        javascript: "export ASYNC function transformEvent(event, metadata) { AWAIT; return {event, meta: metadata(event)}; }",
        python: """
        def transformEvent(event, metadata):
            return {"event": event, "meta": metadata(event)}
        """,
        inputs: [#"{"type":"track","messageId":"m"}"#, #"{"type":"page"}"#],
        expected: [
            #"0 output {"event":{"type":"track","messageId":"m"},"meta":{"messageId":"m"}}"#,
            #"1 output {"event":{"type":"page"},"meta":{}}"#,
        ]
    ),
    ContractCase(
        name: "invalid inputs fail alone",
        javascript: "export ASYNC function transformEvent(event) { AWAIT; return event; }",
        python: """
        def transformEvent(event, metadata):
            return event
        """,
        inputs: [#"{"a":1}"#, "{broken", "[1,2]", #"{"message":{"b":2},"metadata":7}"#, #"{"c":3}"#],
        expected: [
            #"0 output {"a":1}"#,
            "1 invalid_input: invalid JSON: JSON Parse error: Expected '}'",
            "2 invalid_input: invalid event: expected a JSON object, got an array",
            "3 invalid_input: invalid envelope: metadata must be an object",
            #"4 output {"c":3}"#,
        ],
        pythonExpected: [#"0 output {"a":1}"#, "1 invalid_input: invalid JSON: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)", "2 invalid_input: invalid event: expected a JSON object, got an array", "3 invalid_input: invalid envelope: metadata must be an object", #"4 output {"c":3}"#]
    ),
]

let batchCases: [ContractCase] = [
    ContractCase(
        name: "batch outputs carry metadata(element) by messageId; inputs left out are dropped",
        javascript: "export ASYNC function transformBatch(events, metadata) { AWAIT; return events.filter(e => e.n !== 2).map(e => ({...e, src: metadata(e).sourceId})); }",
        python: """
        def transformBatch(events, metadata):
            return [dict(e, src=metadata(e).get("sourceId")) for e in events if e["n"] != 2]
        """,
        inputs: [envelopeA, envelopeB, envelopeC],
        expected: [
            #"0 output {"messageId":"a","n":1,"src":"s"}"#,
            "1 dropped",
            #"2 output {"messageId":"c","n":3,"src":"s"}"#,
        ]
    ),
    ContractCase(
        name: "a batch output whose messageId matches no input has no input",
        javascript: "export ASYNC function transformBatch(events) { AWAIT; return [...events, {messageId: 'new', made: true}]; }",
        python: """
        def transformBatch(events, metadata):
            return events + [{"messageId": "new", "made": True}]
        """,
        inputs: [envelopeA],
        expected: [#"0 output {"messageId":"a","n":1}"#, #"- output {"messageId":"new","made":true}"#]
    ),
    ContractCase(
        name: "a batch result that is not an array fails every event",
        javascript: "export ASYNC function transformBatch(events) { AWAIT; return {events}; }",
        python: """
        def transformBatch(events, metadata):
            return {"events": events}
        """,
        inputs: [envelopeA, envelopeB],
        expected: [
            "0 invalid_result: returned events from transformBatch(event) is not an array",
            "1 invalid_result: returned events from transformBatch(event) is not an array",
        ]
    ),
    ContractCase(
        name: "a non-object element of a batch result is an error of its own",
        javascript: "export ASYNC function transformBatch(events) { AWAIT; return [events[0], 'oops']; }",
        python: """
        def transformBatch(events, metadata):
            return [events[0], "oops"]
        """,
        inputs: [envelopeA, envelopeB],
        expected: [
            #"0 output {"messageId":"a","n":1}"#,
            "1 dropped",
            "- invalid_result: returned event in events array from transformBatch(events) is not an object",
        ]
    ),
    ContractCase(
        name: "a throw in transformBatch fails the whole batch",
        javascript: "export ASYNC function transformBatch(events) { AWAIT; throw new RangeError('too many'); }",
        python: """
        def transformBatch(events, metadata):
            raise ValueError("too many")
        """,
        inputs: [envelopeA, envelopeB],
        expected: ["0 exception: RangeError: too many", "1 exception: RangeError: too many"],
        pythonExpected: ["0 exception: ValueError: too many", "1 exception: ValueError: too many"]
    ),
    ContractCase(
        name: "an invalid input fails alone and the batch sees the rest",
        javascript: "export ASYNC function transformBatch(events) { AWAIT; return [{count: events.length, messageId: 'a'}]; }",
        python: """
        def transformBatch(events, metadata):
            return [{"count": len(events), "messageId": "a"}]
        """,
        inputs: [envelopeA, "nope"],
        expected: [#"0 output {"count":1,"messageId":"a"}"#, #"1 invalid_input: invalid JSON: JSON Parse error: Unexpected identifier "nope""#],
        pythonExpected: [#"0 output {"count":1,"messageId":"a"}"#, "1 invalid_input: invalid JSON: Expecting value: line 1 column 1 (char 0)"]
    ),
]

@Suite struct TransformEventContract {
    @Test(arguments: eventCases)
    func synchronous(_ testCase: ContractCase) throws {
        #expect(try lines(testCase.code(async: false), testCase.inputs) == testCase.expected)
    }

    @Test(arguments: eventCases)
    func asynchronous(_ testCase: ContractCase) throws {
        #expect(try lines(testCase.code(async: true), testCase.inputs) == testCase.expected)
    }

    @Test func outputsCarryTheInputMetadata() throws {
        let result = try runJavaScript("export function transformEvent(e) { return [e, e]; }", [envelopeA])
        #expect(result.results.map { String(decoding: $0.metadata, as: UTF8.self) } == [
            #"{"sourceId":"s","messageId":"a"}"#, #"{"sourceId":"s","messageId":"a"}"#,
        ])
    }
}

@Suite struct PythonContract {
    @Test(arguments: eventCases + batchCases)
    func sameOutcomesAsJavaScript(_ testCase: ContractCase) throws {
        #expect(try pythonLines(testCase.python, testCase.inputs) == (testCase.pythonExpected ?? testCase.expected))
    }
}

@Suite struct TransformBatchContract {
    @Test(arguments: batchCases)
    func synchronous(_ testCase: ContractCase) throws {
        #expect(try lines(testCase.code(async: false), testCase.inputs) == testCase.expected)
    }

    @Test(arguments: batchCases)
    func asynchronous(_ testCase: ContractCase) throws {
        #expect(try lines(testCase.code(async: true), testCase.inputs) == testCase.expected)
    }

    @Test func batchOutputMetadataComesFromTheMatchingInput() throws {
        let result = try runJavaScript("export function transformBatch(events) { return events.reverse(); }", [envelopeA, envelopeB])
        #expect(result.results.map { String(decoding: $0.metadata, as: UTF8.self) } == [
            #"{"sourceId":"s","messageId":"a"}"#, #"{"sourceId":"s","messageId":"b"}"#,
        ])
    }
}

@Suite struct EntryPoints {
    @Test func noEntryPointIsACompileErrorNamingWhatWasFound() {
        #expect(compileError("export function transform(e) { return e; }")
            == "transform.js must export a function transformEvent(event, metadata) or transformBatch(events, metadata) (found exports: transform)")
        #expect(compileError("function transformEvent(e) { return e; }")
            == "transform.js must export a function transformEvent(event, metadata) or transformBatch(events, metadata) (found no exports); is `export` missing?")
    }

    @Test func bothEntryPointsAreACompileError() {
        #expect(compileError("export function transformEvent(e) { return e; }\nexport function transformBatch(e) { return e; }")
            == "transform.js exports both transformEvent and transformBatch; export exactly one")
    }

    @Test func exportedUnderAnotherName() throws {
        #expect(try lines("function f(e) { e.f = 1; return e; }\nexport { f as transformEvent };", [#"{"a":0}"#])
            == [#"0 output {"a":0,"f":1}"#])
    }

    @Test func anEntryPointThatIsNotAFunctionFailsEveryEvent() throws {
        #expect(try lines("export const transformEvent = 42;", [#"{"a":0}"#, #"{"b":0}"#])
            == ["0 exception: TypeError: transformEvent is not a function", "1 exception: TypeError: transformEvent is not a function"])
    }

    @Test func aModuleThatThrowsWhileLoadingFailsEveryEventWithItsError() throws {
        let result = try runJavaScript("const config = JSON.parse('{bad');\nexport function transformEvent(e) { return e; }", [#"{"a":0}"#, #"{"b":0}"#])
        #expect(result.results.map { render($0, fullMessages: true) } == [
            "0 exception: SyntaxError: JSON Parse error: Expected '}'\n    at transform.js:1:26",
            "1 exception: SyntaxError: JSON Parse error: Expected '}'\n    at transform.js:1:26",
        ])
    }
}

@Suite struct ModuleState {
    @Test func moduleStateIsFreshForEveryBatch() throws {
        let runtime = sharedRuntime
        let code = "let count = 0;\nexport function transformEvent(e) { count += 1; return {count}; }"
        let compiled = try runtime.compile(TransformationSource(name: "t", language: .javascript, fileName: "t.js", code: code))
        let batch = Batch(items: items([#"{"a":1}"#, #"{"a":2}"#]))
        for _ in 0..<3 {
            #expect(runtime.run(compiled, batch: batch, limits: .defaults).results.map { render($0) }
                == [#"0 output {"count":1}"#, #"1 output {"count":2}"#])
        }
    }

    @Test func libraryStateIsFreshForEveryBatchToo() throws {
        let runtime = Runtime(libraries: InMemoryLibraries([
            LibrarySource(importName: "counter", language: .javascript, fileName: "counter.js",
                          code: "let n = 0;\nexport function next() { return ++n; }"),
        ]))
        let compiled = try runtime.compile(TransformationSource(name: "t", language: .javascript, fileName: "t.js", code: """
        import { next } from "counter";
        export function transformEvent(e) { return {n: next()}; }
        """))
        let batch = Batch(items: items([#"{"a":1}"#, #"{"a":2}"#]))
        for _ in 0..<2 {
            #expect(runtime.run(compiled, batch: batch, limits: .defaults).results.map { render($0) }
                == [#"0 output {"n":1}"#, #"1 output {"n":2}"#])
        }
    }
}
