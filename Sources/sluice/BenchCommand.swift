import ArgumentParser
import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceServer

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure the engine on the reference workloads in ../shared/bench.",
        discussion: """
        Generates events with <bench>/gen_events.py, then for every workload in <bench>/workloads (libraries from <bench>/libraries) reports the time to compile a new version and the events per second through one engine on one thread, with warm compiled code and the per-call limits armed. Use a release build: swift build -c release.
        """
    )

    @Option(name: .long, help: "The reference benchmark folder (default: $SLUICE_BENCH_DIR or ../shared/bench).")
    var benchDirectory: String?

    @Option(name: .long, help: "Events to generate.")
    var events: Int = 20000

    @Option(name: .long, help: "Events per batch.")
    var batchSize: Int = 200

    @Option(name: .long, help: "Minimum seconds of each measuring round.")
    var seconds: Double = 1

    @Option(name: .long, help: "Measuring rounds per workload; the median is reported.")
    var rounds: Int = 5

    @Option(name: .long, parsing: .upToNextOption, help: "Workloads to run (default: all of the language).")
    var workload: [String] = []

    @Option(name: .long, help: "javascript or python. Python runs also report a plain CPython loop (Benchmarks/python_plain_loop.py) doing the same work, for comparison.")
    var language: String = "javascript"

    @Flag(name: .long, help: "Print the results as JSON.")
    var json = false

    @Flag(name: .customLong("custom-transform"), help: "Also run the events as /customTransform request bodies (gen_events.py --format customTransform, one request per batch) through the service's request handling, without the network, and report its cost over the engine's.")
    var customTransform = false

    @Option(name: .customLong("worker-replacement"), help: "Instead of the workloads: kill a worker process this many times (SIGKILL, while idle) and report how long the pool takes to have a replacement ready, and a worker's start-up time.")
    var workerReplacement: Int = 0

    @Option(help: "With --worker-replacement: spare workers kept ready (default 1, as sluice serve).")
    var spares: Int = 1

    func run() throws {
        if workerReplacement > 0 { return try benchWorkerReplacement(times: workerReplacement) }
        let directory = benchDirectory ?? ProcessInfo.processInfo.environment["SLUICE_BENCH_DIR"] ?? "../shared/bench"
        let generator = directory + "/gen_events.py"
        guard FileManager.default.fileExists(atPath: generator) else {
            throw CLIError("no benchmark workload at \(directory) (expected gen_events.py); pass --bench-directory")
        }
        guard let language = Language(name: language) else { throw CLIError("--language must be javascript or python") }
        let items = try Self.generateEvents(generator: generator, count: events)
        let requestBodies = customTransform ? try Self.requestBodies(generator: generator, count: events, batchSize: batchSize) : []
        let workloadFolder = directory + "/workloads"
        let suffix = "." + language.fileExtension
        let names = try FileManager.default.contentsOfDirectory(atPath: workloadFolder)
            .filter { $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }
            .filter { workload.isEmpty || workload.contains($0) }
            .sorted()
        guard !names.isEmpty else { throw CLIError("no matching workloads in \(workloadFolder)") }

        var rows: [[String: Any]] = []
        if !json {
            print("sluice bench: \(items.count) events (\(items.reduce(0) { $0 + $1.count } / max(items.count, 1)) bytes average), batches of \(batchSize), limits \(Limits.defaults.timeMilliseconds) ms / \(Limits.defaults.memoryMegabytes) MB armed")
            print("workload       compile (median)   events/s, one thread: median (min–max of \(rounds) rounds)   outputs per pass" + (language == .python ? "   plain CPython loop" : ""))
        }
        for name in names {
            let code = try String(contentsOfFile: "\(workloadFolder)/\(name)\(suffix)", encoding: .utf8)
            let source = TransformationSource(name: name, language: language, fileName: "\(name)\(suffix)", code: code)
            // A fresh engine per workload, so one workload's heap and JIT state do not slow the next.
            let runtime = Runtime(libraries: LibraryDirectory(root: directory + "/libraries", languages: Engines.languages))

            // Compile time of a new version: median of 21 compiles after one warm-up.
            var compileTimes: [Double] = []
            var compiled = try runtime.compile(source)
            for _ in 0..<21 {
                let start = ContinuousClock.now
                compiled = try runtime.compile(source)
                compileTimes.append(Self.milliseconds(ContinuousClock.now - start))
            }
            compileTimes.sort()
            let compileMedian = compileTimes[compileTimes.count / 2]

            // Throughput: whole passes over the events until `seconds` have passed (after a warm-up pass).
            let batches = stride(from: 0, to: items.count, by: batchSize).map {
                Batch(items: Array(items[$0..<min($0 + batchSize, items.count)]))
            }
            var outputs = 0
            for batch in batches { outputs += runtime.run(compiled, batch: batch, limits: .defaults).results.count }
            let rates = measure(events: items.count) {
                for batch in batches {
                    let result = runtime.run(compiled, batch: batch, limits: .defaults)
                    precondition(result.results.count >= batch.items.count || compiled.isBatch)
                }
            }
            let median = rates[rates.count / 2]
            rows.append(["workload": name, "compileMilliseconds": compileMedian, "eventsPerSecond": median.rounded(),
                         "eventsPerSecondMin": rates.first!.rounded(), "eventsPerSecondMax": rates.last!.rounded(),
                         "outputsPerPass": outputs])
            var handlerRate: Double?
            var handlerOverhead: Double?
            var parseShare: Double?
            if customTransform {
                let handler = CustomTransformHandler(runtime: runtime, resolver: FixedResolver(compiled: compiled))
                var engineTime = Duration.zero
                var parseTime = Duration.zero
                let handlerStart = ContinuousClock.now
                let handlerRates = measure(events: items.count) {
                    for body in requestBodies {
                        let response = handler.handle(body: body, filterCode: true)
                        precondition(response.status == 200, String(decoding: response.body.prefix(300), as: UTF8.self))
                        engineTime += response.engineTime
                        parseTime += response.parseTime
                    }
                }
                let handlerTime = ContinuousClock.now - handlerStart
                handlerRate = handlerRates[handlerRates.count / 2]
                // Measured within the same requests, so the machine's drift between rounds cancels out.
                handlerOverhead = (Self.milliseconds(handlerTime) / Self.milliseconds(engineTime) - 1) * 100
                parseShare = Self.milliseconds(parseTime) / Self.milliseconds(engineTime) * 100
                rows[rows.count - 1]["customTransformEventsPerSecond"] = handlerRate!.rounded()
                rows[rows.count - 1]["customTransformOverheadPercent"] = handlerOverhead!.rounded()
                rows[rows.count - 1]["customTransformParsingPercent"] = parseShare!.rounded()
            }
            var plain: Double?
            if language == .python {
                plain = try Self.plainPythonLoop(
                    workload: "\(workloadFolder)/\(name).py", libraries: directory + "/libraries", items: items, seconds: seconds * Double(rounds)
                )
                rows[rows.count - 1]["plainCPythonEventsPerSecond"] = plain
            }
            if !json {
                let label = name.padding(toLength: 14, withPad: " ", startingAt: 0)
                var line = label + String(format: " %7.2f ms          %8.0f  (%6.0f–%6.0f)                          %d", compileMedian, median, rates.first!, rates.last!, outputs)
                if let plain { line += String(format: "   %8.0f (%.2fx the cost)", plain, plain / median) }
                print(line)
                if let handlerRate, let handlerOverhead {
                    print(String(format: "  /customTransform handling: %8.0f events/s; parsing, grouping and mapping add %.0f%% to the time spent in the engine (parsing alone %.0f%%)",
                                 handlerRate, handlerOverhead, parseShare ?? 0))
                }
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["batchSize": batchSize, "results": rows], options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// Events per second of Benchmarks/python_plain_loop.py on the same events (the system python3).
    static func plainPythonLoop(workload: String, libraries: String, items: [JSONText], seconds: Double) throws -> Double? {
        let script = "Benchmarks/python_plain_loop.py"
        guard FileManager.default.fileExists(atPath: script) else { return nil }
        let eventsPath = FileManager.default.temporaryDirectory.appendingPathComponent("sluice-bench-\(getpid()).ndjson")
        var data = Data()
        for item in items { data.append(contentsOf: item); data.append(0x0A) }
        try data.write(to: eventsPath)
        defer { try? FileManager.default.removeItem(at: eventsPath) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FileManager.default.fileExists(atPath: "/usr/bin/python3") ? "/usr/bin/python3" : "/usr/bin/env")
        process.arguments = (process.executableURL!.path == "/usr/bin/env" ? ["python3"] : []) + [script, workload, eventsPath.path, libraries, "--seconds", String(seconds)]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Double(String(decoding: output, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func milliseconds(_ duration: Duration) -> Double {
        duration.millisecondsValue
    }

    /// Events per second of `pass` (which handles `events` events), one rate per round, sorted:
    /// whole passes until `seconds` have passed in each of `rounds` rounds.
    func measure(events: Int, _ pass: () -> Void) -> [Double] {
        var rates: [Double] = []
        for _ in 0..<max(1, rounds) {
            var processed = 0
            let start = ContinuousClock.now
            var elapsed = 0.0
            repeat {
                pass()
                processed += events
                elapsed = Self.milliseconds(ContinuousClock.now - start) / 1000
            } while elapsed < seconds
            rates.append(Double(processed) / elapsed)
        }
        return rates.sorted()
    }

    /// `/customTransform` request bodies of `batchSize` events each.
    static func requestBodies(generator: String, count: Int, batchSize: Int) throws -> [[UInt8]] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", generator, "--count", String(count), "--seed", "1", "--format", "customTransform"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let body = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("gen_events.py failed with status \(process.terminationStatus)") }
        let elements = try RawJSON.arrayElements(body)
        return stride(from: 0, to: elements.count, by: max(1, batchSize)).map { start in
            var request: [UInt8] = [UInt8(ascii: "[")]
            for (position, element) in elements[start..<min(start + batchSize, elements.count)].enumerated() {
                if position > 0 { request.append(UInt8(ascii: ",")) }
                request += body[element]
            }
            request.append(UInt8(ascii: "]"))
            return request
        }
    }

    static func generateEvents(generator: String, count: Int) throws -> [JSONText] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", generator, "--count", String(count), "--seed", "1"]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw CLIError("gen_events.py failed with status \(process.terminationStatus)") }
        return data.split(separator: UInt8(ascii: "\n")).map { Array($0) }
    }
}

/// Every version id resolves to the one compiled workload.
private struct FixedResolver: VersionResolver {
    let compiled: any CompiledTransformation
    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution { .compiled(compiled) }
}

extension BenchCommand {
    /// Kills the only worker of a one-process pool `times` times and measures, each time, from the
    /// kill to a replacement ready (its hello received) and to the first batch it answers.
    func benchWorkerReplacement(times: Int) throws {
        let starts = StartTimes()
        var configuration = WorkerPool.Configuration()
        configuration.count = 1
        configuration.spares = spares
        let pool = try WorkerPool(configuration: configuration) { event in
            if case .started(_, _, let duration) = event { starts.add(duration) }
        }
        defer { pool.shutdown() }
        let probe = Program(id: "probe", source: TransformationSource(
            name: "probe", language: .javascript, fileName: "probe.js", code: "export function transformEvent(e) { return e; }"), libraries: [])
        let batch = Batch(items: [Array(#"{"message":{"a":1},"metadata":{}}"#.utf8)])
        guard case .ran = pool.run(probe, batch: batch, limits: .defaults) else { throw CLIError("the probe did not run") }
        var ready: [Double] = []
        var served: [Double] = []
        for _ in 0..<times {
            // A steady state: the spare has started (the case the pool is built for).
            while pool.status.spares < configuration.spares { usleep(1000) }
            let before = pool.status.replacements
            guard let pid = pool.pids.first else { throw CLIError("no worker") }
            let killed = ContinuousClock.now
            kill(pid, SIGKILL)
            while pool.status.replacements == before || pool.status.ready == 0 { usleep(200) }
            ready.append(Self.milliseconds(ContinuousClock.now - killed))
            guard case .ran = pool.run(probe, batch: batch, limits: .defaults) else { throw CLIError("the replacement did not answer") }
            served.append(Self.milliseconds(ContinuousClock.now - killed))
        }
        func summary(_ values: [Double]) -> String {
            let sorted = values.sorted()
            return String(format: "median %.1f ms, p90 %.1f ms, max %.1f ms", sorted[sorted.count / 2],
                          sorted[min(sorted.count - 1, sorted.count * 9 / 10)], sorted.last!)
        }
        let resident = pool.pids.first.flatMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first
        }.map { "\((Int($0) ?? 0) >> 10) MB" } ?? "?"
        print("sluice bench --worker-replacement \(times): one worker process and \(configuration.spares) spare(s), SIGKILL while idle; an idle worker's resident memory: \(resident)")
        print("  kill -> replacement ready:        \(summary(ready))")
        print("  kill -> first batch answered:     \(summary(served))")
        print("  worker start (spawn -> hello):    \(summary(starts.values.map { $0.millisecondsValue }))")
    }
}

/// Start-up durations reported by the pool's observer (another thread).
private final class StartTimes: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var durations: [Duration] = []
    func add(_ duration: Duration) { lock.withLock { durations.append(duration) } }
    var values: [Duration] { lock.withLock { durations } }
}
