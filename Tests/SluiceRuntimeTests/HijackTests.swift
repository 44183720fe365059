import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

/// Built-ins a hostile call replaces for the calls after it in the same batch.
struct HijackFamily: CustomTestStringConvertible, Sendable {
    var name: String
    /// JavaScript statements that install `EVIL` (a function) in place of the built-ins.
    var install: String
    /// The replacement that returns plausible garbage (the loop variant replaces it with
    /// `function () { for (;;) {} }`).
    var garbage = #"function () { return "forged"; }"#
    /// Whether the family leaves `async` functions of innocent events alone. A getter for `then`
    /// on Object.prototype makes every object a thenable to the engine's own promise machinery,
    /// which resolves an async function's result before the driver sees it.
    var asyncToo = true

    var testDescription: String { name }
}

let hijackFamilies: [HijackFamily] = [
    HijackFamily(name: "Array.prototype methods", install: """
        for (const name of ["push", "pop", "join", "concat", "map", "slice", "splice", "indexOf", "includes", "filter", "forEach", "reduce", "some", "every", "find", "sort"]) Array.prototype[name] = EVIL;
        """),
    HijackFamily(name: "array iteration (for…of and spread)", install: """
        Array.prototype[Symbol.iterator] = EVIL;
        Object.getPrototypeOf([][Symbol.iterator]()).next = EVIL;
        """, garbage: "function () { return { done: true, value: undefined, next() { return { done: true }; } }; }"),
    HijackFamily(name: "String.prototype methods and regular expressions", install: """
        for (const name of ["split", "slice", "substring", "lastIndexOf", "indexOf", "replace", "charCodeAt", "startsWith", "trim"]) String.prototype[name] = EVIL;
        String.prototype[Symbol.split] = EVIL;
        RegExp.prototype.exec = EVIL;
        RegExp.prototype.test = EVIL;
        RegExp.prototype[Symbol.split] = EVIL;
        RegExp.prototype[Symbol.replace] = EVIL;
        """),
    HijackFamily(name: "Function.prototype call, apply and bind", install: """
        Function.prototype.call = EVIL;
        Function.prototype.apply = EVIL;
        Function.prototype.bind = EVIL;
        """),
    HijackFamily(name: "Map and Set", install: """
        for (const name of ["get", "set", "has", "delete"]) Map.prototype[name] = EVIL;
        for (const name of ["add", "has", "delete"]) Set.prototype[name] = EVIL;
        """),
    HijackFamily(name: "promises", install: """
        Promise.prototype.then = EVIL;
        Promise.prototype.catch = EVIL;
        Promise.prototype.finally = EVIL;
        Object.defineProperty(Promise, Symbol.hasInstance, { value: EVIL, configurable: true });
        Object.defineProperty(Promise, Symbol.species, { get: EVIL, configurable: true });
        Object.defineProperty(Promise.prototype, "constructor", { get: EVIL, configurable: true });
        """, garbage: "function () { return false; }"),
    HijackFamily(name: "JSON and Object statics", install: """
        JSON.stringify = EVIL;
        JSON.parse = EVIL;
        for (const name of ["keys", "values", "entries", "assign", "freeze", "defineProperty", "getPrototypeOf", "setPrototypeOf", "hasOwn"]) Object[name] = EVIL;
        Object.prototype.hasOwnProperty = EVIL;
        """, garbage: #"function () { return '{"forged":true}'; }"#),
    HijackFamily(name: "toJSON on Object.prototype and Array.prototype", install: """
        Object.prototype.toJSON = EVIL;
        Array.prototype.toJSON = EVIL;
        """, garbage: "function () { return { forged: true }; }"),
    HijackFamily(name: "accessors on Object.prototype and Array.prototype", install: """
        for (const name of ["error", "message", "metadata", "messageId", "get", "set", "value", "writable", "enumerable", "configurable", "status", "body", "method", "headers", "url", "length", "source"]) {
          Object.defineProperty(Object.prototype, name, { __proto__: null, get: EVIL, set: EVIL, configurable: true });
        }
        for (let i = 0; i < 8; i++) Object.defineProperty(Array.prototype, i, { __proto__: null, get: EVIL, set: EVIL, configurable: true });
        """),
    HijackFamily(name: "a then getter on Object.prototype", install: """
        Object.defineProperty(Object.prototype, "then", { get: EVIL, configurable: true });
        """, garbage: "function () { return function (resolve) { resolve({ forged: true }); }; }", asyncToo: false),
    HijackFamily(name: "global constructors, Math and error checks", install: """
        for (const name of ["TypeError", "RangeError", "Error", "String", "Number", "Promise", "Uint8Array", "Map", "Set", "Date", "Reflect"]) globalThis[name] = EVIL;
        Object.defineProperty(Error, Symbol.hasInstance, { value: EVIL, configurable: true });
        Math.floor = EVIL;
        Math.max = EVIL;
        """),
]

/// A hijacker in an earlier call of the batch cannot change what the driver does for the calls
/// after it: the innocent events around it get exactly their results, logs and errors, whether
/// the replacements return garbage or never return.
@Suite struct Hijacking {
    static let inputs = (0..<4).map { index in
        let hijack = index == 1 ? #","hijack":true"# : ""
        let fail = index == 3 ? #","fail":true"# : ""
        return #"{"message":{"messageId":"m\#(index)","n":\#(index)\#(hijack)\#(fail)},"metadata":{"messageId":"m\#(index)","sourceId":"s\#(index)"}}"#
    }

    static func code(_ family: HijackFamily, evil: String, async: Bool) -> String {
        """
        const InnocentError = TypeError;
        export \(async ? "async " : "")function transformEvent(e, metadata) {
          \(async ? "await null;" : "")
          if (e.hijack) {
            const EVIL = \(evil);
            \(family.install)
            return { hijacked: true };
          }
          const m = metadata(e);
          log("innocent", e.n, { n: e.n });
          if (e.fail) throw new InnocentError("innocent failure " + e.n);
          return { n: e.n, source: m.sourceId, list: [e.n, "x"] };
        }
        """
    }

    func expectInnocentsUnharmed(_ family: HijackFamily, evil: String, async: Bool) throws {
        let start = ContinuousClock.now
        let result = try runJavaScript(Self.code(family, evil: evil, async: async), Self.inputs, limits: Limits(timeMilliseconds: 300))
        let elapsed = ContinuousClock.now - start
        let lines = result.results.map { render($0) }
        #expect(lines.count == 4, "every input has exactly one result: \(lines)")
        #expect(lines.first == #"0 output {"n":0,"source":"s0","list":[0,"x"]}"#)
        #expect(lines.count > 2 && lines[2] == #"2 output {"n":2,"source":"s2","list":[2,"x"]}"#, "\(lines)")
        #expect(lines.last == "3 exception: TypeError: innocent failure 3")
        #expect(result.results.last.map { render($0, fullMessages: true).contains("\n    at transformEvent (transform.js:") } == true,
                "the innocent's error keeps its stack: \(result.results.last.map { render($0, fullMessages: true) } ?? "")")
        #expect(result.results.map(\.inputIndex) == [0, 1, 2, 3])
        #expect(result.logs == [0, 2, 3].map { (index: Int) in LogLine(inputIndex: index, messageId: "m\(index)", text: #"innocent \#(index) {"n":\#(index)}"#) })
        // Nothing waits for a limit (the innocents' own results say so); this only bounds a hang.
        #expect(elapsed < .seconds(5), "took \(elapsed)")
    }

    @Test(arguments: hijackFamilies)
    func garbageReplacementsChangeNothingForLaterEvents(_ family: HijackFamily) throws {
        try expectInnocentsUnharmed(family, evil: family.garbage, async: false)
        if family.asyncToo { try expectInnocentsUnharmed(family, evil: family.garbage, async: true) }
    }

    @Test(arguments: hijackFamilies)
    func replacementsThatNeverReturnEndNothingButTheirOwnEvent(_ family: HijackFamily) throws {
        try expectInnocentsUnharmed(family, evil: "function () { for (;;) {} }", async: false)
        if family.asyncToo { try expectInnocentsUnharmed(family, evil: "function () { for (;;) {} }", async: true) }
    }

    @Test func aToJSONOnTheHijackersOwnOutputIsItsOwnAffair() throws {
        let family = hijackFamilies.first { $0.name.hasPrefix("toJSON") }!
        let forged = try runJavaScript(Self.code(family, evil: family.garbage, async: false), Self.inputs, limits: Limits(timeMilliseconds: 300))
        #expect(forged.results.map { render($0) }[1] == #"1 output {"forged":true}"#)
        let looping = try runJavaScript(Self.code(family, evil: "function () { for (;;) {} }", async: false), Self.inputs, limits: Limits(timeMilliseconds: 300))
        #expect(looping.results.map { render($0) }[1] == "1 time_limit: time limit of 300 ms exceeded")
    }

    @Test func aToJSONTheModuleInstallsAppliesToEveryEvent() throws {
        let code = """
        Object.prototype.toJSON = function () { return { ...this, stamped: true }; };
        export function transformEvent(e) { return { n: e.n }; }
        """
        let result = try lines(code, [#"{"n":1}"#, #"{"n":2}"#])
        #expect(result == [#"0 output {"n":1,"stamped":true}"#, #"1 output {"n":2,"stamped":true}"#])
    }

    /// Built-in methods are frozen (so the realm's restore need not check them): changing one
    /// fails that event alone, with the engine's TypeError, and nothing of it reaches the events
    /// or the batches after it. Replacing a method where it lives (on its prototype) still works
    /// for the call that does it and is put back for the next batch.
    @Test func builtInMethodsAreFrozenAndTheirPrototypesStayWritable() throws {
        let code = """
        export function transformEvent(e) {
          if (e.tag) Array.prototype.map.tag = "left behind";
          if (e.rename) Object.defineProperty(Date.now, "name", { value: "later" });
          if (e.reparent) Object.setPrototypeOf(JSON.stringify, null);
          if (e.replace) Array.prototype.map = function () { return "replaced"; };
          return { tag: Array.prototype.map.tag ?? null, name: Date.now.name, proto: Object.getPrototypeOf(JSON.stringify) === Function.prototype,
                   frozen: Object.isFrozen(String.prototype.trim), prototypeFrozen: Object.isFrozen(Array.prototype), mapped: [1].map((x) => x + 1) };
        }
        """
        let runtime = Runtime(libraries: NoLibraries())
        let compiled = try runtime.compile(TransformationSource(name: "frozen", language: .javascript, fileName: "transform.js", code: code))
        let clean = #"{"tag":null,"name":"now","proto":true,"frozen":true,"prototypeFrozen":false,"mapped":[2]}"#
        let first = runtime.run(compiled, batch: Batch(items: items([
            #"{"tag":true}"#, #"{"rename":true}"#, #"{"reparent":true}"#, #"{}"#, #"{"replace":true}"#,
        ])), limits: .defaults).results.map { render($0, fullMessages: true) }
        #expect(first.count == 5)
        for (index, line) in first.prefix(3).enumerated() {
            #expect(line.hasPrefix("\(index) exception: TypeError"), "\(line)")
            #expect(line.contains("transform.js:"), "the error points at the user's line: \(line)")
        }
        #expect(first[3] == "3 output " + clean)
        #expect(first[4] == #"4 output {"tag":null,"name":"now","proto":true,"frozen":true,"prototypeFrozen":false,"mapped":"replaced"}"#)
        let second = runtime.run(compiled, batch: Batch(items: items([#"{}"#])), limits: .defaults).results.map { render($0) }
        #expect(second == ["0 output " + clean])
    }

    /// A property made non-configurable cannot be removed by the realm's restore: the next batch
    /// of the same transformation must still run without the driver touching it.
    @Test func accessorsLeftForGoodOnObjectPrototypeDoNotReachTheNextBatch() throws {
        let code = """
        export function transformEvent(e, metadata) {
          if (e.poison) {
            for (const name of ["message", "metadata", "messageId", "error", "value", "get", "set", "writable", "enumerable", "configurable"]) {
              Object.defineProperty(Object.prototype, name, { __proto__: null, get() { for (;;) {} }, set(v) { for (;;) {} }, configurable: false });
            }
            return { poisoned: true };
          }
          return { n: e.n, source: metadata(e).sourceId };
        }
        """
        let runtime = Runtime(libraries: NoLibraries())
        let compiled = try runtime.compile(TransformationSource(name: "poison", language: .javascript, fileName: "transform.js", code: code))
        let limits = Limits(timeMilliseconds: 300)
        let first = runtime.run(compiled, batch: Batch(items: items([#"{"poison":true}"#])), limits: limits)
        #expect(first.results.map { render($0) } == [#"0 output {"poisoned":true}"#])
        let start = ContinuousClock.now
        let second = runtime.run(compiled, batch: Batch(items: items([
            #"{"message":{"messageId":"a","n":1},"metadata":{"messageId":"a","sourceId":"s"}}"#, #"{"n":2,"messageId":"b"}"#,
        ])), limits: limits)
        #expect(second.results.map { render($0) } == [#"0 output {"n":1,"source":"s"}"#, #"1 output {"n":2}"#])
        #expect(ContinuousClock.now - start < .seconds(2))
    }
}
