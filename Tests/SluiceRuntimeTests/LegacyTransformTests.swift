import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

/// Legacy transformations, rudder-transformer's `codeVersion: "0"` (issue 12, row 7): a classic
/// script defining a global `transform(events)`, called once per group with its messages.
@Suite struct LegacyTransform {
    func run(_ code: String, _ inputs: [String], limits: Limits = .defaults, credentials: [String: String] = [:]) throws -> BatchResult {
        let compiled = try sharedRuntime.compile(TransformationSource(name: "legacy", language: .javascript, fileName: "transform.js",
                                                                      code: code, codeVersion: .legacy))
        return sharedRuntime.run(compiled, batch: Batch(items: items(inputs), credentials: credentials), limits: limits)
    }

    func lines(_ code: String, _ inputs: [String], limits: Limits = .defaults) throws -> [String] {
        try run(code, inputs, limits: limits).results.map { render($0) }
    }

    /// rudder-transformer's "Filtering User Transformations Test".
    static let filter = RudderSamples.legacyFilter
    static let inputs = [
        #"{"message":{"type":"identify","messageId":"m1"},"metadata":{"sourceId":"s1","destinationId":"d1","messageId":"m1"}}"#,
        #"{"message":{"type":"page","messageId":"m2"}}"#,
        #"{"message":{"type":"track","event":"Bought","messageId":"m3"},"metadata":{"sourceId":"s1","destinationId":"d1","messageId":"m3"}}"#,
    ]

    @Test func outputsAreTiedToNoInputAndMetadataIsAGlobal() throws {
        #expect(try lines(Self.filter, Self.inputs) == [
            "0 dropped", "1 dropped", "2 dropped",
            #"- output {"type":"track","event":"Bought","messageId":"m3","sourceId":"s1"}"#,
        ])
    }

    @Test func anAsyncTransformIsAwaitedAndLogs() throws {
        let code = """
            async function transform(events) {
              const resolved = await new Promise((resolve) => resolve("resolved"));
              return events.map((event) => { log("Transformation test"); event.promise = resolved; return event; });
            }
            """
        let result = try run(code, Array(Self.inputs.prefix(2)))
        #expect(result.results.map { render($0) } == [
            "0 dropped", "1 dropped",
            #"- output {"type":"identify","messageId":"m1","promise":"resolved"}"#,
            #"- output {"type":"page","messageId":"m2","promise":"resolved"}"#,
        ])
        #expect(result.logs.map(\.text) == ["Transformation test", "Transformation test"])
    }

    @Test func getCredentialIsNotDefined() throws {
        let code = "function transform(events) { return [{ key: getCredential('key') }]; }"
        let result = try run(code, Array(Self.inputs.prefix(2)), credentials: ["key": "secret"])
        #expect(result.results.map { render($0) } == [
            "0 exception: ReferenceError: Can't find variable: getCredential",
            "1 exception: ReferenceError: Can't find variable: getCredential",
        ])
    }

    @Test func aThrowOrANonArrayFailsEveryInput() throws {
        let inputs = Array(Self.inputs.prefix(2))
        #expect(try lines("function transform(events) { throw new Error('no luck'); }", inputs) == [
            "0 exception: Error: no luck", "1 exception: Error: no luck",
        ])
        #expect(try lines("async function transform(events) { await null; throw new TypeError('later'); }", inputs) == [
            "0 exception: TypeError: later", "1 exception: TypeError: later",
        ])
        #expect(try lines("function transform(events) { return events[0]; }", inputs) == [
            "0 invalid_result: returned events from transform(events) is not an array",
            "1 invalid_result: returned events from transform(events) is not an array",
        ])
        #expect(try lines("function transform(events) { return [1, events[0]]; }", inputs) == [
            "0 dropped", "1 dropped",
            "- invalid_result: returned event in events array from transform(events) is not an object",
            #"- output {"type":"identify","messageId":"m1"}"#,
        ])
    }

    @Test func theTimeLimitCoversTheCall() throws {
        let limits = Limits(timeMilliseconds: 300, memoryMegabytes: 128)
        #expect(try lines("function transform(events) { while (true) {} }", Array(Self.inputs.prefix(2)), limits: limits) == [
            "0 time_limit: time limit of 300 ms exceeded", "1 time_limit: time limit of 300 ms exceeded",
        ])
    }

    @Test func stateDoesNotSurviveFromOneBatchToTheNext() throws {
        let code = "var calls = 0; function transform(events) { calls += 1; return [{ calls }]; }"
        let compiled = try sharedRuntime.compile(TransformationSource(name: "legacy", language: .javascript, fileName: "transform.js",
                                                                      code: code, codeVersion: .legacy))
        for _ in 0..<2 {
            let result = sharedRuntime.run(compiled, batch: Batch(items: items(["{}"])), limits: .defaults)
            #expect(result.results.map { render($0) } == ["0 dropped", #"- output {"calls":1}"#])
        }
    }

    @Test func compileAndDefinitionErrors() throws {
        let legacy = { (code: String) -> String? in
            do {
                _ = try sharedRuntime.compile(TransformationSource(name: "legacy", language: .javascript, fileName: "transform.js",
                                                                   code: code, codeVersion: .legacy))
                return nil
            } catch let error as CompileError {
                return error.message
            } catch {
                return "\(error)"
            }
        }
        // A module is not a classic script.
        #expect(legacy("export function transform(events) { return events; }")?.hasPrefix("SyntaxError:") == true)
        #expect(legacy("function transform(events) { return events; }\nreturn 1;")?.hasPrefix("SyntaxError:") == true)
        #expect(try lines("function transfrom(events) { return events; }", ["{}"]) == ["0 exception: TypeError: transform is not a function"])
        // Python has no legacy convention.
        let python = TransformationSource(name: "p", language: .python, fileName: "transform.py", code: "def transform(events):\n    return events\n",
                                          codeVersion: .legacy)
        #expect(throws: CompileError.self) { try sharedRuntime.compile(python) }
        // metadata is a global of legacy code only.
        #expect(try runJavaScriptLines("export function transformEvent(e) { return { t: typeof metadata, c: typeof getCredential }; }")
            == [#"0 output {"t":"undefined","c":"function"}"#])
        #expect(try lines("function transform(e) { return [{ t: typeof metadata, c: typeof getCredential }]; }", ["{}"])
            == ["0 dropped", #"- output {"t":"function","c":"undefined"}"#])
    }

    func runJavaScriptLines(_ code: String) throws -> [String] {
        try runTransformation(code, ["{}"], language: .javascript).results.map { render($0) }
    }
}
