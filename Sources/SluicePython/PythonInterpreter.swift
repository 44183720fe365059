import CPythonSupport
import Foundation
import SluiceCore

/// The embedded interpreter and the driver's functions. Confined to the engine thread, which
/// initialised it (and which CPython therefore treats as its main thread).
final class PythonInterpreter {
    private(set) var startupError: String?
    private var analyzeFunction: OpaquePointer?
    private var buildFunction: OpaquePointer?
    private var preloadFunction: OpaquePointer?
    private var checkFunction: OpaquePointer?
    private let monitor = EngineMonitor()

    init() {
        sluice_unblock_deadline_signal()
        sluice_python_install_allocator_hooks()
        if let error = sluice_python_initialize() {
            startupError = "Python failed to start: " + String(cString: error)
            return
        }
        guard let globals = sluice_dictionary() else {
            startupError = "Python failed to start: no memory"
            return
        }
        sluice_set_fetch_callback(pythonFetch)
        sluice_set_progress_callback(pythonProgress)
        let host = sluice_host_functions()
        let signalNumber = sluice_integer(Int64(sluice_deadline_signal()))
        sluice_dictionary_set(globals, "_sluice_host", host)
        sluice_dictionary_set(globals, "_sluice_signal", signalNumber)
        sluice_decref(host)
        sluice_decref(signalNumber)
        guard let result = sluice_run_file(DriverSource.code, DriverSource.fileName, globals) else {
            startupError = "Python driver failed to start: " + takeException()
            return
        }
        sluice_decref(result)
        analyzeFunction = sluice_dictionary_get(globals, "analyze")
        buildFunction = sluice_dictionary_get(globals, "build")
        preloadFunction = sluice_dictionary_get(globals, "preload")
        checkFunction = sluice_dictionary_get(globals, "shared_state_change")
    }

    /// What changed of the state every transformation shares since ``preloadAllowedModules()``,
    /// or nil when nothing did (always nil when it was never called).
    func sharedStateChange() -> String? {
        guard let checkFunction else { return nil }
        guard let result = sluice_call(checkFunction, nil, 0) else { return "the check failed: " + takeException() }
        defer { sluice_decref(result) }
        guard let text = utf8(result) else { return "the check failed" }
        return text.isEmpty ? nil : String(decoding: text, as: UTF8.self)
    }

    /// Imports every standard-library module user code may import; nil when that worked, else why.
    func preloadAllowedModules() -> String? {
        guard let preloadFunction else { return startupError ?? "the Python driver is not available" }
        guard let result = sluice_call(preloadFunction, nil, 0) else { return takeException() }
        sluice_decref(result)
        return nil
    }

    // MARK: - Compiling

    private struct Analysis: Decodable {
        struct Import: Decodable {
            var name: String
            var kind: String
        }
        var error: String?
        var imports: [Import]?
        var entries: [String]?
    }

    private struct ModuleSpec: Encodable {
        var name: String
        var fileName: String
        var code: String
    }

    private struct BuildSpec: Encodable {
        var fileName: String
        var code: String
        var entry: String
        var libraries: [ModuleSpec]
    }

    func compile(_ source: TransformationSource, libraries: any LibraryProvider) throws(CompileError) -> PythonObject {
        if let startupError { throw CompileError(startupError) }
        let analysis = try analyze(source.code, fileName: source.fileName)
        let entries = analysis.entries ?? []
        if entries.count == 2 {
            throw CompileError("\(source.fileName) defines both transformEvent and transformBatch; define exactly one")
        }
        guard let entry = entries.first else {
            throw CompileError("\(source.fileName) must define a function transformEvent(event, metadata) or transformBatch(events, metadata)")
        }
        var linked: [ModuleSpec] = []
        try resolve(analysis, code: source.code, of: source.fileName, chain: [source.fileName], libraries: libraries, linked: &linked)

        let spec = BuildSpec(fileName: source.fileName, code: source.code, entry: entry, libraries: linked)
        let json = String(decoding: (try? JSONEncoder().encode(spec)) ?? Data(), as: UTF8.self)
        guard let buildFunction, let argument = makeString(json) else { throw CompileError("internal error: the Python driver is not available") }
        defer { sluice_decref(argument) }
        var arguments: [OpaquePointer?] = [argument]
        guard let handle = arguments.withUnsafeMutableBufferPointer({ sluice_call(buildFunction, $0.baseAddress, 1) }) else {
            throw CompileError(takeException())
        }
        let object = PythonObject(handle)
        object.isBatch = entry == "transformBatch"
        return object
    }

    private func analyze(_ code: String, fileName: String) throws(CompileError) -> Analysis {
        guard let analyzeFunction, let name = makeString(fileName), let text = makeString(code) else {
            throw CompileError("internal error: the Python driver is not available")
        }
        defer {
            sluice_decref(name)
            sluice_decref(text)
        }
        var arguments: [OpaquePointer?] = [name, text]
        guard let result = arguments.withUnsafeMutableBufferPointer({ sluice_call(analyzeFunction, $0.baseAddress, 2) }) else {
            throw CompileError(takeException())
        }
        defer { sluice_decref(result) }
        guard let json = utf8(result), let analysis = try? JSONDecoder().decode(Analysis.self, from: Data(json)) else {
            throw CompileError("internal error: unreadable analysis of \(fileName)")
        }
        if let error = analysis.error { throw CompileError(error) }
        return analysis
    }

    /// Resolves the imports of one module: the libraries first — the names ``PythonLanguage``'s
    /// scanner finds, exactly those the registry pins — recursively; then every other import the
    /// interpreter's analysis found must be allowed standard library, or the compile fails.
    private func resolve(_ analysis: Analysis, code: String, of fileName: String, chain: [String], libraries: any LibraryProvider,
                         linked: inout [ModuleSpec]) throws(CompileError) {
        var libraryNames: Set<String> = []
        for name in PythonLanguage().libraryNames(importedBy: code) {
            if linked.contains(where: { $0.name == name }) {
                libraryNames.insert(name)
                continue
            }
            if chain.contains(name) {
                let cycle = (chain.drop(while: { $0 != name }) + [name]).joined(separator: " → ")
                throw CompileError("ImportError: import cycle \(cycle)")
            }
            let library: LibrarySource?
            do {
                library = try libraries.library(importName: name, language: .python)
            } catch {
                throw CompileError("ImportError: cannot load library '\(name)': \(error)")
            }
            guard let library else { continue }
            libraryNames.insert(name)
            let libraryAnalysis = try analyze(library.code, fileName: library.fileName)
            try resolve(libraryAnalysis, code: library.code, of: library.fileName, chain: chain + [name], libraries: libraries, linked: &linked)
            if !linked.contains(where: { $0.name == name }) {
                linked.append(ModuleSpec(name: name, fileName: library.fileName, code: library.code))
            }
        }
        for item in analysis.imports ?? [] where !libraryNames.contains(item.name) {
            switch item.kind {
            case "allowed":
                continue
            case "relative":
                throw CompileError("ImportError: relative imports are not supported (\(fileName) imports \(item.name))")
            case "refused":
                throw CompileError("ImportError: import of '\(item.name)' is not allowed in transformations (\(fileName))")
            default:
                throw CompileError("ModuleNotFoundError: No module named '\(item.name)'" + libraries.missingLibraryContext(importedBy: fileName))
            }
        }
    }

    // MARK: - Running

    func run(_ handle: PythonObject, name: String, batch: Batch, limits: Limits) -> BatchResult {
        currentPythonFetchBridge = FetchBridge(handler: batch.fetch, callsPerInvocation: batch.fetchCallsPerInvocation)
        defer { currentPythonFetchBridge = nil }
        var clock = PhaseClock(enabled: batch.measuresPhases)
        var early: [Int: Failure] = [:]
        var text: [UInt8] = []
        text.reserveCapacity(batch.items.reduce(0) { $0 + $1.count + 1 })
        for (index, item) in batch.items.enumerated() {
            if index > 0 { text.append(0x1E) }
            if containsByte(item, 0x1E) || containsByte(item, 0) {
                early[index] = Failure(.invalidInput, "invalid JSON: control character in input")
                text.append(contentsOf: "null".utf8)
            } else {
                text.append(contentsOf: item)
            }
        }
        var textObject = makeString(bytes: text)
        if textObject == nil {
            // Invalid UTF-8 somewhere: fail those items alone.
            _ = takeException()
            text.removeAll(keepingCapacity: true)
            for (index, item) in batch.items.enumerated() {
                if index > 0 { text.append(0x1E) }
                if early[index] == nil, String(validating: item, as: UTF8.self) != nil {
                    text.append(contentsOf: item)
                } else {
                    early[index] = early[index] ?? Failure(.invalidInput, "invalid JSON: the text is not valid UTF-8")
                    text.append(contentsOf: "null".utf8)
                }
            }
            textObject = makeString(bytes: text)
        }
        guard let textObject else {
            _ = takeException()
            return failedBatch(batch, Failure(.engine, "internal error: the batch could not be passed to Python"))
        }
        defer { sluice_decref(textObject) }

        let credentials = batch.credentialsJSON
        guard let runMethod = sluice_attribute(handle.pointer, "run"),
              let count = sluice_integer(Int64(batch.items.count)),
              let credentialsObject = makeString(credentials),
              let limit = sluice_integer(Int64(limits.timeMilliseconds) * 1_000_000),
              let budget = sluice_integer(Int64(limits.memoryMegabytes) << 20),
              let determinism = makeString(batch.determinism?.json ?? ""),
              let mocks = makeString(batch.fetchMocks ?? ""),
              let progressInterval = sluice_integer(batch.progress == nil ? 0 : Int64(clamping: batch.progressInterval)),
              let measuresTimes = sluice_integer(batch.measuresEventTimes ? 1 : 0) else {
            return failedBatch(batch, Failure(.engine, "internal error: " + takeException()))
        }
        defer {
            for object in [runMethod, count, credentialsObject, limit, budget, determinism, mocks, progressInterval, measuresTimes] { sluice_decref(object) }
        }
        clock.end("input text")
        let metadata = batch.itemMetadata
        clock.end("metadata")
        if let progress = batch.progress {
            let earlyFailures = early
            let inputCount = batch.items.count
            currentPythonProgress = { text in progress(Self.records(text, metadata: metadata, early: earlyFailures, inputCount: inputCount)) }
        }
        defer { currentPythonProgress = nil }
        sluice_call_index_set(-1)
        monitor.watch(control: UnsafeMutablePointer(mutating: sluice_call_sequence()), limits: limits, transformation: name)
        var arguments: [OpaquePointer?] = [textObject, count, credentialsObject, limit, budget, determinism, mocks, progressInterval, measuresTimes]
        let output = arguments.withUnsafeMutableBufferPointer { sluice_call(runMethod, $0.baseAddress, 9) }
        monitor.stopWatching()
        clock.end("driver")
        guard let output else {
            return failedBatch(batch, Failure(.engine, "internal error: " + takeException()))
        }
        defer { sluice_decref(output) }
        var length = 0
        var owner: OpaquePointer?
        guard let pointer = sluice_string_utf8(output, &length, &owner) else {
            return failedBatch(batch, Failure(.engine, "internal error: " + takeException()))
        }
        defer { sluice_decref(owner) }
        var result = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
            Self.records(UnsafeBufferPointer(start: bytes, count: length), metadata: metadata, early: early, inputCount: batch.items.count)
        }
        clock.end("records")
        result.phases = Self.splittingCalls(from: clock.phases, eventNanoseconds: result.eventNanoseconds)
        return result
    }

    /// With the calls timed too (``Batch/measuresEventTimes``), the driver's time as its calls
    /// (each event's function and serialising its result) and the rest (parsing the items,
    /// releasing and restoring state between batches, the records).
    static func splittingCalls(from phases: [PhaseTime], eventNanoseconds: [UInt64]) -> [PhaseTime] {
        guard !eventNanoseconds.isEmpty, let driver = phases.firstIndex(where: { $0.name == "driver" }) else { return phases }
        let calls = min(eventNanoseconds.reduce(0, &+), phases[driver].nanoseconds)
        var split = phases
        split[driver] = PhaseTime(name: "driver: parse, release", nanoseconds: phases[driver].nanoseconds - calls)
        split.insert(PhaseTime(name: "calls", nanoseconds: calls), at: driver + 1)
        return split
    }

    /// The results in the driver's record text, with each input's metadata and the failures
    /// found before the engine saw the input, in input order.
    static func records(_ text: UnsafeBufferPointer<UInt8>, metadata: [JSONText], early: [Int: Failure], inputCount: Int) -> BatchResult {
        var parsed = ResultRecords.Parsed()
        ResultRecords.parse(text, metadata: metadata, into: &parsed) { Array($0) }
        return parsed.batchResult(early: early, inputCount: inputCount)
    }


    private func failedBatch(_ batch: Batch, _ failure: Failure) -> BatchResult {
        BatchResult(failing: batch, with: failure)
    }

    // MARK: - Objects

    private func makeString(_ text: String) -> OpaquePointer? {
        makeString(bytes: Array(text.utf8))
    }

    /// A str from UTF-8 bytes; nil (with the exception set) when they are not valid UTF-8.
    private func makeString(bytes: [UInt8]) -> OpaquePointer? {
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress, !buffer.isEmpty else { return sluice_string("", 0) }
            return base.withMemoryRebound(to: CChar.self, capacity: buffer.count) { sluice_string($0, buffer.count) }
        }
    }

    private func utf8(_ object: OpaquePointer) -> [UInt8]? {
        var length = 0
        var owner: OpaquePointer?
        guard let pointer = sluice_string_utf8(object, &length, &owner) else { return nil }
        defer { sluice_decref(owner) }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    /// The pending Python exception as text (and clears it).
    private func takeException() -> String {
        guard let text = sluice_take_exception_text() else { return "unknown Python error" }
        defer { free(text) }
        return String(cString: text)
    }
}

/// The fetch bridge of the Python batch running now (CPython runs one batch at a time, on its thread).
nonisolated(unsafe) var currentPythonFetchBridge: FetchBridge?

/// Receives the progress of the Python batch running now.
nonisolated(unsafe) var currentPythonProgress: ((UnsafeBufferPointer<UInt8>) -> Void)?

/// The `progress` host function's way back into Swift.
private let pythonProgress: sluice_progress_callback = { text, length in
    guard let text, let receive = currentPythonProgress else { return }
    UnsafeRawPointer(text).withMemoryRebound(to: UInt8.self, capacity: length) { receive(UnsafeBufferPointer(start: $0, count: length)) }
}

/// The `fetch` host function's way back into Swift.
private let pythonFetch: sluice_fetch_callback = { invocation, url, method, headers, body, bodyLength in
    guard let url, let method, let headers else { return nil }
    let answer: String
    if let bridge = currentPythonFetchBridge {
        let bytes = body.map { Array(UnsafeBufferPointer(start: UnsafeRawPointer($0).assumingMemoryBound(to: UInt8.self), count: bodyLength)) }
        answer = bridge.perform(invocation: invocation, url: String(cString: url), method: String(cString: method),
                                headers: String(cString: headers), body: bytes, remainingNanoseconds: sluice_deadline_remaining())
    } else {
        answer = #"{"error":"fetch is not available","kind":"unavailable"}"#
    }
    return strdup(answer)
}
