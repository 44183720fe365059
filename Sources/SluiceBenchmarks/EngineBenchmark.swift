import Foundation
import SluiceCore
import SluiceJavaScript
import SluiceRegistry
import SluiceRuntime
import SluiceServer

/// `sluice bench`: for each workload, the time to compile a new version and the events per second
/// through one engine on one thread, with warm compiled code and the per-call limits armed; with
/// ``Options/customTransform`` also through the service's request handling (no network).
public struct EngineBenchmark {
    public struct Options: Sendable {
        /// Events per batch.
        public var batchSize = 200
        /// Minimum seconds of each measuring round.
        public var seconds = 1.0
        /// Measuring rounds; the median is reported.
        public var rounds = 5
        /// Also run the events as `/customTransform` request bodies through the service's handler.
        public var customTransform = false
        /// For JavaScript workloads, also measure the peers in the same run: Node's `vm` calling
        /// the same `transformEvent` directly (`Benchmarks/node-vm-run.mjs --direct`, when `node`
        /// is installed) and JavaScriptCore's own JSON floor (``JSONFloor``).
        public var peers = true
        public init() {}
    }

    /// One workload's figures.
    public struct Result: Sendable {
        public var workload: String
        public var compileMilliseconds: Double
        /// Events per second of each round, sorted.
        public var rates: [Double]
        /// Time of one event's call in the engine (``Batch/measuresEventTimes``), in microseconds:
        /// the median and the 99th percentile over one more pass.
        public var p50Microseconds = 0.0
        public var p99Microseconds = 0.0
        /// Where an event's time goes, from the same extra pass (``Batch/measuresPhases``): each
        /// phase of the engine's batch, in microseconds per event, in the order they run, then
        /// `outside the engine` (handing the batch to the engine's thread and back).
        public var phases: [(name: String, microseconds: Double)] = []
        /// Time of one empty batch (no events) through the engine, in microseconds: what every
        /// batch costs whatever its size (JavaScript: restoring the realm and a fresh module
        /// instance; Python: releasing and restoring state).
        public var emptyBatchMicroseconds = 0.0
        public var outputsPerPass: Int
        /// Through `/customTransform` handling: events per second, its cost over the engine's
        /// time and the share of that spent parsing, in percent.
        public var customTransform: (eventsPerSecond: Double, overheadPercent: Double, parsingPercent: Double)?
        /// Events per second of the same work in a plain CPython loop (Python workloads).
        public var plainCPython: Double?
        /// Events per second of Node's `vm` calling the same function directly (JavaScript
        /// `transformEvent` workloads, when `node` is installed).
        public var nodeDirect: Double?
        /// Events per second of `JSON.stringify(JSON.parse(event))` alone in one JavaScriptCore
        /// context (JavaScript workloads).
        public var jsonFloor: Double?

        /// Sluice's rate over Node's direct call (≥ 1: Sluice is as fast or faster).
        public var ratioToNode: Double? { nodeDirect.map { median / $0 } }
        /// Sluice's per-event cost over JavaScriptCore's JSON floor (1: nothing but the JSON work).
        public var costOverFloor: Double? { jsonFloor.map { $0 / median } }

        public var median: Double { rates[rates.count / 2] }

        /// The figures as the JSON report's row.
        public var row: [String: Any] {
            var row: [String: Any] = ["workload": workload, "compileMilliseconds": compileMilliseconds, "eventsPerSecond": median.rounded(),
                                      "eventsPerSecondMin": rates.first!.rounded(), "eventsPerSecondMax": rates.last!.rounded(),
                                      "outputsPerPass": outputsPerPass,
                                      "p50Microseconds": (p50Microseconds * 100).rounded() / 100, "p99Microseconds": (p99Microseconds * 100).rounded() / 100,
                                      "phaseMicrosecondsPerEvent": phases.map { ["phase": $0.name, "microseconds": ($0.microseconds * 100).rounded() / 100] },
                                      "emptyBatchMicroseconds": emptyBatchMicroseconds.rounded()]
            if let customTransform {
                row["customTransformEventsPerSecond"] = customTransform.eventsPerSecond.rounded()
                row["customTransformOverheadPercent"] = customTransform.overheadPercent.rounded()
                row["customTransformParsingPercent"] = customTransform.parsingPercent.rounded()
            }
            if let plainCPython { row["plainCPythonEventsPerSecond"] = plainCPython }
            if let nodeDirect { row["nodeDirectEventsPerSecond"] = nodeDirect.rounded() }
            if let ratioToNode { row["ratioToNode"] = (ratioToNode * 100).rounded() / 100 }
            if let jsonFloor { row["jscJSONFloorEventsPerSecond"] = jsonFloor.rounded() }
            if let costOverFloor { row["costOverJSCFloor"] = (costOverFloor * 100).rounded() / 100 }
            return row
        }
    }

    public let workload: BenchWorkload
    public let options: Options

    public init(workload: BenchWorkload, options: Options) {
        self.workload = workload
        self.options = options
    }

    /// Measures workload `name` of `language` on `items` (and `requestBodies` for the handler).
    public func measure(_ name: String, language: Language, items: [JSONText], requestBodies: [[UInt8]]) throws -> Result {
        let source = try workload.source(name, language: language)
        // A fresh engine per workload, so one workload's heap and JIT state do not slow the next.
        let runtime = Runtime(libraries: LibraryDirectory(root: workload.librariesDirectory, languages: Engines.languages))

        // Compile time of a new version: median of 21 compiles after one warm-up.
        var compileTimes: [Double] = []
        var compiled = try runtime.compile(source)
        for _ in 0..<21 {
            let start = ContinuousClock.now
            compiled = try runtime.compile(source)
            compileTimes.append((ContinuousClock.now - start).millisecondsValue)
        }
        compileTimes.sort()

        // Throughput: whole passes over the events until `seconds` have passed (after a warm-up pass).
        let batches = stride(from: 0, to: items.count, by: options.batchSize).map {
            Batch(items: Array(items[$0..<min($0 + options.batchSize, items.count)]))
        }
        var outputs = 0
        for batch in batches { outputs += runtime.run(compiled, batch: batch, limits: .defaults).results.count }
        let rates = rounds(events: items.count) {
            for batch in batches {
                let result = runtime.run(compiled, batch: batch, limits: .defaults)
                precondition(result.results.count >= batch.items.count || compiled.isBatch)
            }
        }
        var result = Result(workload: name, compileMilliseconds: compileTimes[compileTimes.count / 2], rates: rates, outputsPerPass: outputs)
        // Time per event and where it goes: one more pass with each call and each phase timed
        // (not part of the rates above).
        var eventNanoseconds: [UInt64] = []
        eventNanoseconds.reserveCapacity(items.count)
        var phases: [PhaseTime] = []
        var passNanoseconds: UInt64 = 0
        for var batch in batches {
            batch.measuresEventTimes = true
            batch.measuresPhases = true
            let start = monotonicNanoseconds()
            let timed = runtime.run(compiled, batch: batch, limits: .defaults)
            passNanoseconds &+= monotonicNanoseconds() &- start
            eventNanoseconds += timed.eventNanoseconds
            for phase in timed.phases { phases.add(phase) }
        }
        if !phases.isEmpty {
            let inEngine = phases.reduce(0) { $0 &+ $1.nanoseconds }
            phases.append(PhaseTime(name: "outside the engine", nanoseconds: passNanoseconds > inEngine ? passNanoseconds - inEngine : 0))
            result.phases = phases.map { ($0.name, Double($0.nanoseconds) / 1000 / Double(items.count)) }
        }
        result.emptyBatchMicroseconds = emptyBatchMicroseconds(runtime, compiled)
        eventNanoseconds.sort()
        if !eventNanoseconds.isEmpty {
            result.p50Microseconds = Double(eventNanoseconds[eventNanoseconds.count / 2]) / 1000
            result.p99Microseconds = Double(eventNanoseconds[min(eventNanoseconds.count - 1, eventNanoseconds.count * 99 / 100)]) / 1000
        }
        if options.customTransform {
            // The service's path: the same runtime behind the in-process executor, the program
            // linked as a version would be.
            let program = try Program.linking(source, from: runtime.libraries)
            let handler = CustomTransformHandler(executor: InProcessExecutor(runtime: runtime), resolver: FixedResolver(program: program))
            var engineTime = Duration.zero
            var parseTime = Duration.zero
            let handlerStart = ContinuousClock.now
            let handlerRates = rounds(events: items.count) {
                for body in requestBodies {
                    let response = handler.handle(body: body, filterCode: true)
                    precondition(response.status == 200, String(decoding: response.body.prefix(300), as: UTF8.self))
                    engineTime += response.engineTime
                    parseTime += response.parseTime
                }
            }
            let handlerTime = ContinuousClock.now - handlerStart
            // Measured within the same requests, so the machine's drift between rounds cancels out.
            result.customTransform = (handlerRates[handlerRates.count / 2],
                                      (handlerTime.millisecondsValue / engineTime.millisecondsValue - 1) * 100,
                                      parseTime.millisecondsValue / engineTime.millisecondsValue * 100)
        }
        if language == .javascript, options.peers {
            result.jsonFloor = JSONFloor.eventsPerSecond(items, seconds: options.seconds, rounds: options.rounds)
            if !compiled.isBatch { result.nodeDirect = try nodeDirect(workload: workload.path(name, language: language), items: items) }
        }
        if language == .python {
            result.plainCPython = try plainPythonLoop(workload: workload.path(name, language: language), items: items,
                                                      seconds: options.seconds * Double(options.rounds))
        }
        return result
    }

    /// The median time of an empty batch through the engine, in microseconds (101 batches after
    /// ten to warm up).
    func emptyBatchMicroseconds(_ runtime: Runtime, _ compiled: any CompiledTransformation) -> Double {
        let empty = Batch(items: [])
        for _ in 0..<10 { _ = runtime.run(compiled, batch: empty, limits: .defaults) }
        var times: [UInt64] = []
        for _ in 0..<101 {
            let start = monotonicNanoseconds()
            _ = runtime.run(compiled, batch: empty, limits: .defaults)
            times.append(monotonicNanoseconds() &- start)
        }
        times.sort()
        return Double(times[times.count / 2]) / 1000
    }

    /// Events per second of Benchmarks/python_plain_loop.py on the same events (the system python3).
    func plainPythonLoop(workload path: String, items: [JSONText], seconds: Double) throws -> Double? {
        let script = "Benchmarks/python_plain_loop.py"
        guard FileManager.default.fileExists(atPath: script) else { return nil }
        let python = FileManager.default.fileExists(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env"
        let output = try withEventsFile(items) { eventsPath in
            try Self.run(python, (python == "/usr/bin/env" ? ["python3"] : []) + [script, path, eventsPath, workload.librariesDirectory, "--seconds", String(seconds)])
        }
        return Double(output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Events per second of `Benchmarks/node-vm-run.mjs --direct` on the same events, or nil when
    /// `node` or the script is missing.
    func nodeDirect(workload path: String, items: [JSONText]) throws -> Double? {
        let script = "Benchmarks/node-vm-run.mjs"
        guard FileManager.default.fileExists(atPath: script),
              let node = ["/usr/bin/node", "/usr/local/bin/node"].first(where: FileManager.default.isExecutableFile(atPath:)) else { return nil }
        let output = try withEventsFile(items) { eventsPath in
            try Self.run(node, [script, path, eventsPath, "--libraries", workload.librariesDirectory, "--direct",
                                "--rounds", String(options.rounds), "--seconds", String(options.seconds)])
        }
        let answer = try? JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
        return (answer?["eventsPerSecond"] as? NSNumber)?.doubleValue
    }

    /// Runs `body` with `items` written to a temporary NDJSON file.
    func withEventsFile<T>(_ items: [JSONText], _ body: (String) throws -> T) throws -> T {
        let eventsPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(getpid()).ndjson")
        var data = Data()
        for item in items { data.append(contentsOf: item); data.append(0x0A) }
        try data.write(to: eventsPath)
        defer { try? FileManager.default.removeItem(at: eventsPath) }
        return try body(eventsPath.path)
    }

    /// Runs `executable` with `arguments` and returns its standard output.
    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: output, as: UTF8.self)
    }

    /// Events per second of `pass` (which handles `events` events), one rate per round, sorted:
    /// whole passes until `seconds` have passed in each round.
    func rounds(events: Int, _ pass: () -> Void) -> [Double] {
        var rates: [Double] = []
        for _ in 0..<max(1, options.rounds) {
            var processed = 0
            let start = ContinuousClock.now
            var elapsed = 0.0
            repeat {
                pass()
                processed += events
                elapsed = (ContinuousClock.now - start).millisecondsValue / 1000
            } while elapsed < options.seconds
            rates.append(Double(processed) / elapsed)
        }
        return rates.sorted()
    }
}

/// Every version id resolves to the one workload.
private struct FixedResolver: VersionResolver {
    let program: Program
    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution { .found(program, limits: nil) }
}
