import CJavaScriptCore
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// One JavaScriptCore context group (a VM: one heap, one time limit) and everything that
/// touches it. Confined to its ``EngineThread``: every method must run on that thread.
///
/// Each compiled transformation gets its own global context in the group, so transformations
/// never share globals; the group's time limit is driven as a periodic watchdog (see
/// ``Watchdog``) that enforces the per-call wall-clock and memory budgets.
final class JavaScriptVM {
    let group: JSContextGroupRef
    let watchdog: Watchdog
    /// A GLib-API context used only to check module syntax with exact positions.
    private let syntaxChecker: OpaquePointer
    /// Reused for converting result strings to UTF-8.
    private var utf8Buffer: [UInt8] = []
    /// Reused for the input text of a batch.
    private var utf16Buffer: [UInt16] = []
    /// The class of the `hostFetch` function each context's driver gets (its private data is this VM).
    private let fetchClass: JSClassRef
    /// The fetch bridge of the batch running now.
    private var currentBridge: FetchBridge?

    init() {
        Self.configureOnce
        group = JSContextGroupCreate()
        syntaxChecker = OpaquePointer(jsc_context_new())
        watchdog = Watchdog(group: group)
        watchdog.arm()
        var definition = kJSClassDefinitionEmpty
        definition.callAsFunction = hostFetchCallback
        fetchClass = JSClassCreate(&definition)
    }

    deinit {
        JSClassRelease(fetchClass)
        JSContextGroupClearExecutionTimeLimit(group)
        JSContextGroupRelease(group)
        g_object_unref(UnsafeMutableRawPointer(syntaxChecker))
    }

    /// JavaScriptCore options must be set before the first VM exists. Polling traps make loops
    /// compiled by the top JIT tier stoppable (ENGINE-FACTS.md).
    private static let configureOnce: Void = {
        _ = jsc_options_set_boolean("usePollingTraps", 1)
    }()

    // MARK: - Compiling

    func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError) -> CompiledScript {
        let legacy = source.codeVersion == .legacy
        let program = legacy
            ? try ModuleLinker.linkLegacy(source) { code, fileName throws(CompileError) in
                try self.checkSyntax(code, fileName: fileName, mode: JSC_CHECK_SYNTAX_MODE_SCRIPT)
            }
            : try ModuleLinker.link(source, libraries: libraries) { code, fileName throws(CompileError) in
                try self.checkSyntax(code, fileName: fileName, mode: JSC_CHECK_SYNTAX_MODE_MODULE)
            }
        let exported = Set(program.entryExports)
        let hasEvent = exported.contains("transformEvent")
        // A legacy script's `transform` is one call over the group, like transformBatch; it is
        // looked up when the script runs (a missing one fails the group).
        let hasBatch = exported.contains("transformBatch") || legacy
        if hasEvent && hasBatch {
            throw CompileError("\(source.fileName) exports both transformEvent and transformBatch; export exactly one")
        }
        if !hasEvent && !hasBatch {
            let declared = source.code.contains("transformEvent") || source.code.contains("transformBatch")
            let found = program.entryExports.isEmpty ? "no exports" : "exports: " + program.entryExports.joined(separator: ", ")
            throw CompileError(
                "\(source.fileName) must export a function transformEvent(event, metadata) or transformBatch(events, metadata) (found \(found))"
                    + (declared ? "; is `export` missing?" : "")
            )
        }

        let context = JSGlobalContextCreateInGroup(group, nil)!
        // Values held only in Swift arrays are invisible to the collector's stack scan: protect
        // them until the driver's closure holds them.
        var protected: [JSValueRef] = []
        func protect(_ value: JSValueRef?) -> JSValueRef? {
            if let value {
                JSValueProtect(context, value)
                protected.append(value)
            }
            return value
        }
        func unprotectAll() {
            for value in protected { JSValueUnprotect(context, value) }
            protected.removeAll()
        }
        func cleanUp() {
            unprotectAll()
            JSGlobalContextRelease(context)
        }

        var factories: [JSValueRef?] = []
        for module in program.modules {
            var exception: JSValueRef?
            let value = withJSString(module.factorySource) { script in
                withJSString(module.fileName) { url in
                    JSEvaluateScript(context, script, nil, url, 1, &exception)
                }
            }
            if let exception {
                let error = describeCompileException(exception, in: context, fileName: module.fileName)
                cleanUp()
                throw CompileError(error)
            }
            factories.append(protect(value))
        }

        // Freed by the typed array's deallocator when the context collects it.
        let control = calloc(4, MemoryLayout<Int32>.size)!.assumingMemoryBound(to: Int32.self)
        var exception: JSValueRef?
        let driverFactory = withJSString(DriverSource.code) { script in
            withJSString(DriverSource.fileName) { url in
                JSEvaluateScript(context, script, nil, url, 1, &exception)
            }
        }
        guard exception == nil, let driverFactory else {
            let message = describeCompileException(exception, in: context, fileName: DriverSource.fileName)
            cleanUp()
            free(control)
            throw CompileError("internal error: the driver failed to compile: \(message)")
        }
        _ = protect(driverFactory)
        let controlArray = protect(JSObjectMakeTypedArrayWithBytesNoCopy(
            context, kJSTypedArrayTypeInt32Array, control, 16, { bytes, _ in free(bytes) }, nil, &exception
        ))
        let dependencies = program.modules.map { module in
            protect(makeArray(context, module.dependencies.map { JSValueMakeNumber(context, Double($0)) }))
        }
        let fileNames = program.modules.map { module in protect(withJSString(module.fileName) { JSValueMakeString(context, $0) }) }
        let arguments: [JSValueRef?] = [
            protect(makeArray(context, factories)),
            protect(makeArray(context, dependencies)),
            JSValueMakeBoolean(context, hasBatch),
            controlArray,
            protect(makeArray(context, fileNames)),
            JSValueMakeNumber(context, Double(ModuleLinker.headerLines)),
            // Protected like the rest: held only in this array, it can be collected before the
            // call below holds it (seen once, in a loaded test run: the driver's first fetch met
            // "hostFetch is not a function … an instance of Object", a reused cell).
            protect(JSObjectMake(context, fetchClass, Unmanaged.passUnretained(self).toOpaque())),
            JSValueMakeBoolean(context, legacy),
        ]
        let driver = arguments.withUnsafeBufferPointer { buffer in
            JSObjectCallAsFunction(context, JSValueToObject(context, driverFactory, nil), nil, buffer.count, buffer.baseAddress, &exception)
        }
        guard exception == nil, let driver, let driverObject = JSValueToObject(context, driver, nil) else {
            let message = describeCompileException(exception, in: context, fileName: DriverSource.fileName)
            cleanUp()
            throw CompileError("internal error: the driver failed to start: \(message)")
        }
        unprotectAll()
        var functions: [JSObjectRef] = []
        for index in 0..<6 {
            let function = JSObjectGetPropertyAtIndex(context, driverObject, UInt32(index), nil)!
            JSValueProtect(context, function)
            functions.append(JSValueToObject(context, function, nil)!)
        }
        return CompiledScript(
            context: context, begin: functions[0], step: functions[1], fail: functions[2], finish: functions[3],
            absorb: functions[4], take: functions[5], control: control, isBatch: hasBatch,
            entryName: legacy ? "transform" : hasBatch ? "transformBatch" : "transformEvent", name: source.name
        )
    }

    /// Checks module syntax on the user's own text, so errors carry the user's line and column.
    private func checkSyntax(_ code: String, fileName: String, mode: JSCCheckSyntaxMode) throws(CompileError) {
        var exception: OpaquePointer?
        let bytes = Array(code.utf8)
        let result = bytes.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: max(buffer.count, 1)) { pointer in
                withUnsafeMutablePointer(to: &exception) { exceptionPointer in
                    exceptionPointer.withMemoryRebound(to: UnsafeMutablePointer<JSCException>?.self, capacity: 1) { rebound in
                        jsc_context_check_syntax(
                            UnsafeMutablePointer(syntaxChecker), pointer, gssize(buffer.count),
                            mode, fileName, 1, rebound
                        )
                    }
                }
            }
        }
        if bytes.isEmpty { return }
        guard result != JSC_CHECK_SYNTAX_RESULT_SUCCESS, let exception else { return }
        defer { g_object_unref(UnsafeMutableRawPointer(exception)) }
        let pointer = UnsafeMutablePointer<JSCException>(exception)
        let name = jsc_exception_get_name(pointer).map { String(cString: $0) } ?? "SyntaxError"
        let message = jsc_exception_get_message(pointer).map { String(cString: $0) } ?? "invalid syntax"
        let line = Int(jsc_exception_get_line_number(pointer))
        var column = Int(jsc_exception_get_column_number(pointer))
        if column == 0 { column = SyntaxErrorLocator.column(message: message, line: line, source: code) ?? 0 }
        let position = column > 0 ? "\(fileName):\(line):\(column)" : "\(fileName):\(line)"
        throw CompileError("\(name): \(message) (\(position))")
    }

    private func describeCompileException(_ exception: JSValueRef?, in context: JSContextRef, fileName: String) -> String {
        guard let exception else { return "unknown error" }
        let text = stringValue(context, exception) ?? "unknown error"
        guard let object = JSValueToObject(context, exception, nil) else { return text }
        let line = withJSString("line") { JSObjectGetProperty(context, object, $0, nil) }
        let column = withJSString("column") { JSObjectGetProperty(context, object, $0, nil) }
        if let line, JSValueIsNumber(context, line) {
            let userLine = Int(JSValueToNumber(context, line, nil)) - ModuleLinker.headerLines
            var position = "\(fileName):\(max(userLine, 1))"
            if let column, JSValueIsNumber(context, column) { position += ":\(Int(JSValueToNumber(context, column, nil)))" }
            return "\(text) (\(position))"
        }
        return text
    }

    // MARK: - Running

    /// Runs one batch; see ``DriverSource`` for the protocol with the driver.
    func run(_ script: CompiledScript, batch: Batch, limits: Limits) -> BatchResult {
        let context = script.context
        var clock = PhaseClock(enabled: batch.measuresPhases)
        currentBridge = FetchBridge(handler: batch.fetch, callsPerInvocation: batch.fetchCallsPerInvocation)
        defer { currentBridge = nil }
        var early: [Int: Failure] = [:]
        let credentialsText = batch.credentialsJSON

        watchdog.begin(control: script.control, limits: limits, transformation: script.name)
        defer { watchdog.end() }

        // One string in. Fast path: the whole batch as one JSON array with a random number after
        // every item, parsed by one JSON.parse. If that is not exactly the items (a malformed
        // one), send them again joined with U+001E so the driver parses each on its own.
        let nonce = UInt64.random(in: 1..<(1 << 53))
        var exception: JSValueRef?
        var longDigitRuns: [Int] = []
        InputText.joined(batch.items, nonce: nonce, early: &early, longDigitRuns: &longDigitRuns, into: &utf16Buffer)
        let setUp = BatchSetUp(
            count: batch.items.count, credentials: credentialsText, determinism: batch.determinism, fetchMocks: batch.fetchMocks,
            limits: limits, longIntegers: LongIntegers.driverText(batch.items, candidates: longDigitRuns)
        )
        clock.end("input text")
        watchdog.entering(at: monotonicNanoseconds())
        let status = callBegin(script, text: utf16Buffer, nonce: Double(nonce), setUp: setUp, exception: &exception)
        clock.end("begin")
        if status == 1 && exception == nil {
            early.removeAll()
            InputText.separated(batch.items, early: &early, into: &utf16Buffer)
            clock.end("input text")
            watchdog.entering(at: monotonicNanoseconds())
            _ = callBegin(script, text: utf16Buffer, nonce: 0, setUp: setUp, exception: &exception)
            clock.end("begin")
        }
        if let fired = watchdog.takeFired() {
            recordLimit(fired, script: script, limits: limits)
        } else if let exception {
            let message = stringValue(context, exception) ?? "unknown error"
            return failedBatch(batch, Failure(.engine, "internal error: \(message)"))
        }
        watchdog.resetBaseline()

        // Run until the driver reports done; after a limit hit, record it and continue.
        clock.end("begin")
        let metadata = batch.itemMetadata
        clock.end("metadata")
        var lastProgress = monotonicNanoseconds()
        let limitNanoseconds = UInt64(limits.timeMilliseconds) * 1_000_000
        // Inputs whose call returned after its time limit: the watchdog checks between stretches
        // of JavaScript, and one native stretch (a catastrophic regular expression, a huge
        // `fill`) can run past the limit and still return before the engine monitor steps in.
        // Such a call gets the time-limit error all the same: an event's outcome must not depend
        // on whether its overrun was interruptible, nor on the grace a worker process has.
        var overran: Set<Int> = []
        var eventNanoseconds = batch.measuresEventTimes ? [UInt64](repeating: 0, count: batch.items.count) : []
        var batchCallNanoseconds: UInt64 = 0
        while true {
            exception = nil
            let stepStart = monotonicNanoseconds()
            watchdog.entering(at: stepStart)
            let status = JSObjectCallAsFunction(context, script.step, nil, 0, nil, &exception)
            if !eventNanoseconds.isEmpty {
                // The step ran (or went on with) the call `control[1]` names: -1 is a transformBatch call.
                let elapsed = monotonicNanoseconds() &- stepStart, index = Int(script.control[1])
                if index >= 0 && index < eventNanoseconds.count { eventNanoseconds[index] &+= elapsed } else { batchCallNanoseconds &+= elapsed }
            }
            if let fired = watchdog.takeFired() {
                recordLimit(fired, script: script, limits: limits)
                continue
            }
            if let exception {
                // Only a termination can escape the driver; treat anything else as an engine bug
                // for the current call and go on.
                let message = stringValue(context, exception) ?? "unknown error"
                callFail(script, kind: .engine, message: "internal error: \(message)", reset: false)
                continue
            }
            let code = status.map { JSValueToNumber(context, $0, nil) } ?? 0
            // 3: one synchronous call ran in this step (its output already serialised, its promise
            // jobs drained), and `control` still names it.
            if code == 3, monotonicNanoseconds() &- stepStart > limitNanoseconds, script.control[1] >= 0 {
                overran.insert(Int(script.control[1]))
            }
            if code == 0 { break }
            if code == 2 {
                callFail(script, kind: .exception, message: "Error: the promise returned by \(script.entryName) never settled", reset: false)
            }
            // 1 and 3: microtasks have drained on return; step again. Between calls, a long
            // batch hands what has finished to its progress handler.
            if let progress = batch.progress, monotonicNanoseconds() &- lastProgress >= batch.progressInterval {
                exception = nil
                if let taken = JSObjectCallAsFunction(context, script.take, nil, 0, nil, &exception), exception == nil,
                   let string = JSValueToStringCopy(context, taken, nil) {
                    var chunk = records(string, metadata: metadata, early: early)
                    JSStringRelease(string)
                    Self.failOverruns(overran, in: &chunk, message: limits.timeLimitMessage)
                    if !chunk.results.isEmpty || !chunk.logs.isEmpty || !chunk.unmockedRequests.isEmpty { progress(chunk) }
                }
                lastProgress = monotonicNanoseconds()
            }
        }

        clock.end("calls")
        // One string out.
        exception = nil
        guard let finished = JSObjectCallAsFunction(context, script.finish, nil, 0, nil, &exception),
              let string = JSValueToStringCopy(context, finished, nil) else {
            return failedBatch(batch, Failure(.engine, "internal error: the driver returned no results"))
        }
        defer { JSStringRelease(string) }
        clock.end("finish")
        var result = records(string, metadata: metadata, early: early)
        Self.failOverruns(overran, in: &result, message: limits.timeLimitMessage)
        clock.end("records")
        if script.isBatch && !eventNanoseconds.isEmpty {
            eventNanoseconds = eventNanoseconds.map { _ in batchCallNanoseconds / UInt64(eventNanoseconds.count) }
        }
        result.eventNanoseconds = eventNanoseconds
        result.phases = clock.phases
        return result
    }

    /// Replaces the results of the inputs in `overran` (outputs, a drop, an error of their own)
    /// with one time-limit failure each, in place; their logs stay.
    static func failOverruns(_ overran: Set<Int>, in result: inout BatchResult, message: String) {
        guard !overran.isEmpty else { return }
        var replaced: Set<Int> = []
        var results: [EventResult] = []
        results.reserveCapacity(result.results.count)
        for eventResult in result.results {
            guard let index = eventResult.inputIndex, overran.contains(index) else {
                results.append(eventResult)
                continue
            }
            if replaced.insert(index).inserted {
                results.append(EventResult(inputIndex: index, outcome: .failed(Failure(.timeLimit, message)), metadata: eventResult.metadata))
            }
        }
        result.results = results
    }

    /// The results in the driver's record text, with each input's metadata and the failures
    /// found before the engine saw the input, in input order.
    private func records(_ string: JSStringRef, metadata: [JSONText], early: [Int: Failure]) -> BatchResult {
        var parsed = ResultRecords.Parsed()
        ResultRecords.parse(
            UnsafeBufferPointer(start: JSStringGetCharactersPtr(string), count: JSStringGetLength(string)), metadata: metadata,
            into: &parsed, bytes: OutputText.bytes
        )
        return parsed.batchResult(early: early, inputCount: metadata.count)
    }

    /// `hostFetch(invocation, url, method, headers, body)` from the driver: blocks while the
    /// batch's fetch handler works (the watchdog does not tick meanwhile; the call's wall clock
    /// goes on, so the next tick ends a call whose fetch used up its time).
    fileprivate func hostFetch(_ context: JSContextRef, _ count: Int, _ arguments: UnsafePointer<JSValueRef?>?) -> JSValueRef? {
        func argument(_ index: Int) -> JSValueRef? {
            guard index < count, let value = arguments?[index], !JSValueIsNull(context, value), !JSValueIsUndefined(context, value) else { return nil }
            return value
        }
        let invocation = argument(0).map { Int(JSValueToNumber(context, $0, nil)) } ?? -1
        let answer: String
        if let bridge = currentBridge, let url = argument(1).flatMap({ stringValue(context, $0) }) {
            answer = bridge.perform(
                invocation: invocation, url: url, method: argument(2).flatMap { stringValue(context, $0) } ?? "GET",
                headers: argument(3).flatMap { stringValue(context, $0) } ?? "",
                body: argument(4).flatMap { stringValue(context, $0) }.map { Array($0.utf8) },
                remainingNanoseconds: watchdog.remainingNanoseconds())
        } else {
            answer = #"{"error":"fetch needs a URL","kind":"network"}"#
        }
        return withJSString(answer) { JSValueMakeString(context, $0) }
    }

    /// What `begin` needs besides the items' text.
    private struct BatchSetUp {
        var count: Int
        var credentials: String
        var determinism: Determinism?
        var fetchMocks: String?
        var limits: Limits
        /// ``LongIntegers/driverText(_:candidates:)``.
        var longIntegers: String
    }

    private func callBegin(_ script: CompiledScript, text: [UInt16], nonce: Double, setUp: BatchSetUp,
                           exception: inout JSValueRef?) -> Double {
        let context = script.context
        // Each string is protected as soon as it exists: making the next one may collect.
        let itemsValue = protected(context, text.withUnsafeBufferPointer { buffer in
            let string = JSStringCreateWithCharacters(buffer.baseAddress, buffer.count)!
            defer { JSStringRelease(string) }
            return JSValueMakeString(context, string)
        })
        let strings = [
            setUp.credentials, setUp.determinism?.json ?? "", setUp.fetchMocks ?? "", setUp.limits.memoryLimitMessage, setUp.longIntegers,
        ].map { text in protected(context, withJSString(text) { JSValueMakeString(context, $0) }) }
        defer {
            JSValueUnprotect(context, itemsValue)
            for value in strings { JSValueUnprotect(context, value) }
        }
        // begin(text, count, credentialsJSON, nonce, determinismJSON, mocksJSON, memoryBytes, memoryLimitMessage, longIntegers)
        let arguments: [JSValueRef?] = [
            itemsValue, JSValueMakeNumber(context, Double(setUp.count)), strings[0], JSValueMakeNumber(context, nonce),
            strings[1], strings[2], JSValueMakeNumber(context, Double(setUp.limits.memoryMegabytes) * 1_048_576), strings[3], strings[4],
        ]
        guard let result = call(context, script.begin, arguments, &exception) else { return 0 }
        return JSValueToNumber(context, result, nil)
    }

    private func recordLimit(_ kind: FailureKind, script: CompiledScript, limits: Limits) {
        // A termination inside a microtask leaves its state pending: let a trivial call take it
        // before the driver does real work (see `absorb` in DriverSource).
        watchdog.arm()
        var ignored: JSValueRef?
        _ = JSObjectCallAsFunction(script.context, script.absorb, nil, 0, nil, &ignored)
        if kind == .memoryLimit {
            callFail(script, kind: .memoryLimit, message: limits.memoryLimitMessage, reset: true)
            JSSynchronousGarbageCollectForDebugging(script.context)
            watchdog.resetBaseline()
        } else {
            callFail(script, kind: .timeLimit, message: limits.timeLimitMessage, reset: false)
        }
    }

    private func callFail(_ script: CompiledScript, kind: FailureKind, message: String, reset: Bool) {
        let context = script.context
        let kindValue = protected(context, withJSString(kind.name) { JSValueMakeString(context, $0) })
        let messageValue = protected(context, withJSString(message) { JSValueMakeString(context, $0) })
        defer {
            JSValueUnprotect(context, kindValue)
            JSValueUnprotect(context, messageValue)
        }
        let arguments: [JSValueRef?] = [kindValue, messageValue, JSValueMakeBoolean(context, reset)]
        watchdog.pause()
        defer { watchdog.resume() }
        var exception: JSValueRef?
        _ = call(context, script.fail, arguments, &exception)
    }

    private func protected(_ context: JSContextRef, _ value: JSValueRef?) -> JSValueRef? {
        if let value { JSValueProtect(context, value) }
        return value
    }

    /// Calls `function`, keeping the arguments protected from collection until the call holds them.
    private func call(_ context: JSContextRef, _ function: JSObjectRef, _ arguments: [JSValueRef?],
                      _ exception: inout JSValueRef?) -> JSValueRef? {
        for argument in arguments { if let argument { JSValueProtect(context, argument) } }
        defer { for argument in arguments { if let argument { JSValueUnprotect(context, argument) } } }
        return arguments.withUnsafeBufferPointer { buffer in
            JSObjectCallAsFunction(context, function, nil, buffer.count, buffer.baseAddress, &exception)
        }
    }

    private func failedBatch(_ batch: Batch, _ failure: Failure) -> BatchResult {
        BatchResult(failing: batch, with: failure)
    }

    // MARK: - Strings

    func stringValue(_ context: JSContextRef, _ value: JSValueRef) -> String? {
        guard let bytes = utf8(context, value) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The UTF-8 bytes of a value converted to a string (no NUL).
    func utf8(_ context: JSContextRef, _ value: JSValueRef) -> [UInt8]? {
        guard let string = JSValueToStringCopy(context, value, nil) else { return nil }
        defer { JSStringRelease(string) }
        let capacity = JSStringGetMaximumUTF8CStringSize(string)
        if utf8Buffer.count < capacity { utf8Buffer = [UInt8](repeating: 0, count: capacity) }
        let written = utf8Buffer.withUnsafeMutableBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: capacity) { pointer in
                JSStringGetUTF8CString(string, pointer, capacity)
            }
        }
        return Array(utf8Buffer[0..<max(written - 1, 0)])
    }
}

/// A compiled transformation's context and driver functions. Owned by ``JavaScriptVM``'s thread.
final class CompiledScript {
    let context: JSGlobalContextRef
    let begin: JSObjectRef
    let step: JSObjectRef
    let fail: JSObjectRef
    let finish: JSObjectRef
    let absorb: JSObjectRef
    let take: JSObjectRef
    let control: UnsafeMutablePointer<Int32>
    let isBatch: Bool
    /// The function user code defines: `transformEvent`, `transformBatch` or (legacy) `transform`.
    let entryName: String
    /// The transformation's name, for messages.
    let name: String

    init(context: JSGlobalContextRef, begin: JSObjectRef, step: JSObjectRef, fail: JSObjectRef, finish: JSObjectRef,
         absorb: JSObjectRef, take: JSObjectRef, control: UnsafeMutablePointer<Int32>, isBatch: Bool, entryName: String, name: String) {
        self.entryName = entryName
        self.context = context
        self.begin = begin
        self.step = step
        self.fail = fail
        self.finish = finish
        self.absorb = absorb
        self.take = take
        self.name = name
        self.control = control
        self.isBatch = isBatch
    }

    /// Must run on the engine thread.
    func release() {
        for function in [begin, step, fail, finish, absorb, take] { JSValueUnprotect(context, function) }
        JSGlobalContextRelease(context)
    }
}

func withJSString<T>(_ text: String, _ body: (JSStringRef) -> T) -> T {
    let string = text.withCString { JSStringCreateWithUTF8CString($0)! }
    defer { JSStringRelease(string) }
    return body(string)
}

func makeArray(_ context: JSContextRef, _ values: [JSValueRef?]) -> JSValueRef? {
    values.withUnsafeBufferPointer { buffer in
        JSObjectMakeArray(context, buffer.count, buffer.baseAddress, nil)
    }
}

/// `hostFetch` calls land here and go to the VM in the function's private data.
private let hostFetchCallback: JSObjectCallAsFunctionCallback = { context, function, _, count, arguments, _ in
    guard let context, let function, let vm = JSObjectGetPrivate(function) else { return nil }
    return Unmanaged<JavaScriptVM>.fromOpaque(vm).takeUnretainedValue().hostFetch(context, count, arguments)
}
