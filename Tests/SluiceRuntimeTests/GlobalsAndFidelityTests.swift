import SluiceCore
import SluiceRuntime
import Testing

@Suite struct Globals {
    @Test func onlyECMAScriptBuiltInsAndTheHostFunctions() throws {
        let code = "export function transformEvent(e) { return { names: Object.getOwnPropertyNames(globalThis).filter(n => !/^[A-Z]/.test(n) || n === 'WebAssembly').sort() }; }"
        #expect(try lines(code, ["{}"]) == [
            #"0 output {"names":["console","decodeURI","decodeURIComponent","encodeURI","encodeURIComponent","escape","eval","fetch","fetchV2","geolocation","getCredential","globalThis","isFinite","isNaN","log","parseFloat","parseInt","undefined","unescape"]}"#,
        ])
    }

    @Test func logCapturesStringsAndObjectsAsJSONPerEvent() throws {
        let code = """
        export function transformEvent(e) {
          log("plain", 42, {a: [1, "x"]}, null, undefined, true);
          console.log("via console");
          if (e.n === 2) log(new TypeError("shown"));
          return e;
        }
        """
        let result = try runJavaScript(code, [#"{"message":{"messageId":"m1","n":1}}"#, #"{"n":2}"#])
        #expect(result.logs == [
            LogLine(inputIndex: 0, messageId: "m1", text: #"plain 42 {"a":[1,"x"]} null undefined true"#),
            LogLine(inputIndex: 0, messageId: "m1", text: "via console"),
            LogLine(inputIndex: 1, messageId: nil, text: #"plain 42 {"a":[1,"x"]} null undefined true"#),
            LogLine(inputIndex: 1, messageId: nil, text: "via console"),
            LogLine(inputIndex: 1, messageId: nil, text: "TypeError: shown\n    at transformEvent (transform.js:4:35)"),
        ])
    }

    @Test func logsOfTransformBatchAndOfModuleLoadingHaveNoInput() throws {
        let code = "log('loading');\nexport function transformBatch(events) { log('batch of', events.length); return events; }"
        let result = try runJavaScript(code, ["{}", "{}"])
        #expect(result.logs.map(\.text) == ["loading", "batch of 2"])
        #expect(result.logs.map(\.inputIndex) == [nil, nil])
    }

    @Test func getCredentialReadsTheCallersCredentials() throws {
        let code = "export function transformEvent(e) { return { key: getCredential('apiKey'), missing: getCredential('nope') ?? 'undefined', notString: getCredential(5) ?? 'undefined' }; }"
        let result = try runJavaScript(code, ["{}"], credentials: ["apiKey": "s3cr\"et"])
        #expect(result.results.map { render($0) } == [#"0 output {"key":"s3cr\"et","missing":"undefined","notString":"undefined"}"#])
        // Credentials belong to the batch that carried them.
        #expect(try lines(code, ["{}"]) == [#"0 output {"missing":"undefined","notString":"undefined"}"#])
    }

    /// rudder-transformer's getCredential: no key (or null/undefined) throws a TypeError; any other
    /// key is a property name (1 → "1", true → "true"); extra arguments are ignored.
    @Test func getCredentialAsRudderTransformer() throws {
        let code = """
            export function transformEvent(e) {
              if (e.call === "none") return { v: getCredential() };
              if (e.call === "null") return { v: getCredential(null) };
              return { one: getCredential(1), yes: getCredential(true), extra: getCredential("key1", "key2") };
            }
            """
        let result = try runJavaScript(code, [#"{"call":"none"}"#, #"{"call":"null"}"#, "{}"], credentials: ["1": "by-number", "true": "by-boolean", "key1": "value1"])
        #expect(result.results.map { render($0) } == [
            "0 exception: TypeError: Key should be valid and defined",
            "1 exception: TypeError: Key should be valid and defined",
            #"2 output {"one":"by-number","yes":"by-boolean","extra":"value1"}"#,
        ])
        let batch = "export function transformBatch(events) { getCredential(); return events; }"
        #expect(try runJavaScript(batch, ["{}", "{}"]).results.map { render($0) }.allSatisfy { $0.hasSuffix("exception: TypeError: Key should be valid and defined") })
    }

    @Test func getCredentialInPython() throws {
        let code = """
            def transformEvent(e, m):
                if e.get('call') == 'none':
                    return {'v': getCredential()}
                if e.get('call') == 'null':
                    return {'v': getCredential(None)}
                if e.get('call') == 'number':
                    return {'v': getCredential(1)}
                return {'v': getCredential('key1', 'key2'), 'missing': getCredential('nope')}
            """
        let result = try runPython(code, [#"{"call":"none"}"#, #"{"call":"null"}"#, #"{"call":"number"}"#, "{}"], credentials: ["key1": "value1"])
        #expect(result.results.map { render($0) } == [
            "0 exception: TypeError: Key should be valid and defined",
            "1 exception: TypeError: Key should be valid and defined",
            "2 exception: TypeError: Key should be valid and defined",
            #"3 output {"v":"value1","missing":null}"#,
        ])
    }
}

/// What goes in comes out unchanged unless the function changed it.
@Suite struct JSONFidelity {
    static let identity = "export function transformEvent(e) { return e; }"

    @Test(arguments: [
        #"{"text":"héllo wörld ✓ 日本語 🎉","escapes":"quote \" backslash \\ slash / tab \t newline \n","control":"\u0001\u001f"}"#,
        #"{"max":9007199254740991,"min":-9007199254740991,"zero":0,"negative":-17,"float":0.1,"exp":1.5e+300,"tiny":5e-324}"#,
        #"{"empty":{},"emptyArray":[],"nested":{"a":[{},[[]],{"b":null}]},"bools":[true,false],"null":null}"#,
    ])
    func valuesSurviveUnchanged(_ input: String) throws {
        #expect(try lines(Self.identity, [input]) == ["0 output \(input)"])
    }

    @Test func escapedUnicodeComesOutAsTheSameCharacters() throws {
        #expect(try lines(Self.identity, [#"{"a":"\u00e9\ud83c\udf89"}"#]) == [#"0 output {"a":"é🎉"}"#])
    }

    @Test func loneSurrogatesStayEscaped() throws {
        #expect(try lines(Self.identity, [#"{"a":"\ud800x"}"#]) == [#"0 output {"a":"\ud800x"}"#])
    }

    @Test func deepNestingOf250Levels() throws {
        let deep = String(repeating: #"{"a":"#, count: 250) + "1" + String(repeating: "}", count: 250)
        #expect(try lines(Self.identity, [deep]) == ["0 output \(deep)"])
    }

    @Test func undefinedAndFunctionsAreDroppedAsJSONStringifyDoes() throws {
        let code = "export function transformEvent(e) { return { keep: 1, u: undefined, f() {}, list: [undefined, () => 1, 2] }; }"
        #expect(try lines(code, ["{}"]) == [#"0 output {"keep":1,"list":[null,null,2]}"#])
    }

    @Test func unserialisableOutputIsAPerEventError() throws {
        let code = """
        export function transformEvent(e) {
          if (e.kind === "cycle") { const o = {}; o.self = o; return o; }
          if (e.kind === "bigint") return { n: 10n };
          if (e.kind === "toJSON") return { toJSON() { return undefined; } };
          return e;
        }
        """
        #expect(try lines(code, [#"{"kind":"cycle"}"#, #"{"kind":"bigint"}"#, #"{"kind":"toJSON"}"#, #"{"kind":"fine"}"#]) == [
            "0 unserializable_result: TypeError: JSON.stringify cannot serialize cyclic structures.",
            "1 unserializable_result: TypeError: JSON.stringify cannot serialize BigInt.",
            "2 unserializable_result: returned event cannot be serialised as JSON",
            #"3 output {"kind":"fine"}"#,
        ])
    }

    @Test func invalidUTF8AndControlBytesFailAlone() throws {
        var items: [JSONText] = [Array(#"{"a":1}"#.utf8)]
        items.append([0x7B, 0x22, 0x62, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D])  // {"b":"\xC3("}
        items.append(Array("{\"c\":\u{1E}1}".utf8))
        items.append(Array(#"{"d":4}"#.utf8))
        let compiled = try sharedRuntime.compile(TransformationSource(name: "t", language: .javascript, fileName: "t.js", code: Self.identity))
        let result = sharedRuntime.run(compiled, batch: Batch(items: items), limits: .defaults)
        #expect(result.results.map { render($0) } == [
            #"0 output {"a":1}"#,
            "1 invalid_input: invalid JSON: the text is not valid UTF-8",
            "2 invalid_input: invalid JSON: control character U+001E in input",
            #"3 output {"d":4}"#,
        ])
    }

    @Test func aMalformedItemCannotShiftItsNeighbours() throws {
        // Each of these is invalid alone but valid JSON when joined with its neighbours.
        let inputs = [#"{"a":1},{"b":2}"#, #"[{"c":3}"#, #"{"d":4}]"#, #"{"e":5}"#]
        #expect(try lines(Self.identity, inputs) == [
            "0 invalid_input: invalid JSON: JSON Parse error: Unable to parse JSON string",
            "1 invalid_input: invalid JSON: JSON Parse error: Expected ']'",
            "2 invalid_input: invalid JSON: JSON Parse error: Unable to parse JSON string",
            #"3 output {"e":5}"#,
        ])
    }

    @Test func largeBatches() throws {
        let inputs = (0..<5000).map { #"{"i":\#($0),"s":"\#(String(repeating: "x", count: $0 % 50))"}"# }
        let result = try lines(Self.identity, inputs)
        #expect(result.count == 5000)
        #expect(result[4999] == #"4999 output {"i":4999,"s":"\#(String(repeating: "x", count: 4999 % 50))"}"#)
    }
}
