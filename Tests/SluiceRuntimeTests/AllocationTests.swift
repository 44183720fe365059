import SluiceCore
import SluiceRuntime
import Testing

/// Allocations whose size is a number are checked against the call's memory budget before the
/// engine reserves the memory.
@Suite(.serialized) struct AllocationChecks {
    static let limits = Limits(timeMilliseconds: 2000, memoryMegabytes: 64)
    static let runtime = Runtime(libraries: NoLibraries())

    @Test(arguments: [
        "new ArrayBuffer(2 ** 31)",
        "new Uint8Array(2 ** 31).fill(1)",
        "new Float64Array(2 ** 25)",
        "new BigInt64Array(2 ** 24)",
        "new Int32Array({ length: 2 ** 30 })",
        "new Float64Array(Array(2 ** 27))",
        "new ArrayBuffer({ valueOf() { return 2 ** 31; } })",
        "new ArrayBuffer(8, { maxByteLength: 2 ** 31 }).resize(2 ** 30)",
        "new ArrayBuffer(8).transfer(2 ** 31)",
        "new Uint8Array(8).subarray(0, 1).constructor.from({ length: 2 ** 31 })",
        "'x'.repeat(2 ** 29)",
        "'ab'.repeat(2 ** 26).length",
        "''.padStart(2 ** 29, 'y')",
        "'z'.padEnd(2 ** 28)",
        "Array(2 ** 30).fill(0)",
        "new Array(2 ** 24).fill(0, 0)",
    ])
    func anAllocationPastTheBudgetFailsItsEventWithTheMemoryLimit(_ allocation: String) throws {
        let code = "export function transformEvent(e) { if (e.big) { const value = \(allocation); return { kept: typeof value }; } return e; }"
        let before = ResidentMemory.bytes()
        let result = try lines(code, [#"{"big":true}"#, #"{"n":2}"#], limits: Self.limits, runtime: Self.runtime)
        #expect(result == ["0 memory_limit: memory limit of 64 MB exceeded", #"1 output {"n":2}"#])
        // Refused before the engine reserved anything (other suites running meanwhile may add some).
        #expect(ResidentMemory.bytes() - before < 512 << 20, "resident memory grew by \((ResidentMemory.bytes() - before) >> 20) MB")
    }

    @Test func catchingTheRefusalDoesNotSaveTheEvent() throws {
        let code = """
        export function transformEvent(e) {
          if (e.big) { try { new ArrayBuffer(2 ** 31); } catch (error) { return { caught: error instanceof RangeError, message: error.message }; } }
          return e;
        }
        """
        #expect(try lines(code, [#"{"big":true}"#, #"{"n":2}"#], limits: Self.limits) == [
            "0 memory_limit: memory limit of 64 MB exceeded", #"1 output {"n":2}"#,
        ])
    }

    @Test func aRefusalInAPromiseJobOrAtModuleLevelCountsToo() throws {
        let job = "export function transformEvent(e) { if (e.big) Promise.resolve().then(() => new Uint8Array(2 ** 31)); return e; }"
        #expect(try lines(job, [#"{"n":1}"#, #"{"big":true}"#, #"{"n":3}"#], limits: Self.limits) == [
            #"0 output {"n":1}"#, "1 memory_limit: memory limit of 64 MB exceeded", #"2 output {"n":3}"#,
        ])
        let module = "const table = new Float64Array(2 ** 28);\nexport function transformEvent(e) { return e; }"
        #expect(try lines(module, [#"{"n":1}"#, "oops"], limits: Self.limits) == [
            "0 memory_limit: memory limit of 64 MB exceeded", #"1 invalid_input: invalid JSON: JSON Parse error: Unexpected identifier "oops""#,
        ])
    }

    @Test func checkedConstructorsBehaveLikeTheOriginals() throws {
        let code = """
        export function transformEvent(e) {
          class Bytes extends Uint8Array { sum() { let s = 0; for (const v of this) s += v; return s; } }
          const bytes = new Bytes([1, 2, 3]);
          const copy = new Uint8Array([5, 6, 7]).slice(1);
          const buffer = new ArrayBuffer(8);
          return {
            subclass: bytes instanceof Bytes && bytes instanceof Uint8Array && bytes.sum() === 6,
            subarrayKeepsClass: bytes.subarray(1) instanceof Bytes,
            instance: new Uint8Array([1, 2]) instanceof Uint8Array,
            constructor: copy.constructor === Uint8Array && Object.getPrototypeOf(copy) === Uint8Array.prototype,
            sliced: Array.from(copy),
            from: Array.from(Uint8Array.from([1, 2, 3], (x) => x * 2)),
            of: Float64Array.of(1.5, 2).length,
            isView: ArrayBuffer.isView(new Float64Array(2)) && !ArrayBuffer.isView(buffer),
            bufferSlice: buffer.slice(2).byteLength,
            bufferConstructor: buffer.slice(2).constructor === ArrayBuffer && buffer instanceof ArrayBuffer,
            view: new Int16Array(buffer, 2, 2).length,
            statics: Uint8Array.BYTES_PER_ELEMENT === 1 && Uint8Array.length === 3 && ArrayBuffer.length === 1 && Uint8Array.name === "Uint8Array",
            family: Object.getPrototypeOf(Uint8Array) === Object.getPrototypeOf(Int8Array),
            source: Function.prototype.toString.call(Float64Array),
            withoutNew: (() => { try { Uint8Array(2); return "no error"; } catch (error) { return error.constructor.name; } })(),
            resizable: (() => { const b = new ArrayBuffer(4, { maxByteLength: 16 }); b.resize(8); return b.byteLength; })(),
            strings: "ab".repeat(3) + "7".padStart(3, "0") + "x".padEnd(2, "-"),
            filled: Array(3).fill(1),
            revived: JSON.parse('{"a":[1,2]}', (key, value) => typeof value === "number" ? value * 10 : value),
          };
        }
        """
        #expect(try lines(code, ["{}"]) == [
            #"0 output {"subclass":true,"subarrayKeepsClass":true,"instance":true,"constructor":true,"sliced":[6,7],"from":[2,4,6],"of":2,"isView":true,"bufferSlice":6,"bufferConstructor":true,"view":2,"statics":true,"family":true,"source":"function Float64Array() {\n    [native code]\n}","withoutNew":"TypeError","resizable":8,"strings":"ababab007x-","filled":[1,1,1],"revived":{"a":[10,20]}}"#,
        ])
    }
}

/// JSON.parse with a reviver on text nested a few hundred thousand levels deep overflows the
/// engine thread's stack inside JavaScriptCore (a native recursion without a stack check): the
/// process dies of SIGSEGV (measured: 300,000 levels, with a memory budget that lets it get that far). Such text is refused with the RangeError the engine itself throws for
/// somewhat shallower text.
@Suite struct ReviverDepth {
    @Test func aDeeplyNestedTextWithAReviverIsARangeErrorNotACrash() throws {
        let code = """
        export function transformEvent(e) {
          const text = "[".repeat(300000) + "]".repeat(300000);
          try { JSON.parse(text, (key, value) => value); return { parsed: true }; } catch (error) { return { error: String(error) }; }
        }
        """
        // A budget large enough that the memory limit does not end the parse first.
        #expect(try lines(code, ["{}"], limits: Limits(memoryMegabytes: 4096)) == [#"0 output {"error":"RangeError: Maximum call stack size exceeded."}"#])
    }
}
