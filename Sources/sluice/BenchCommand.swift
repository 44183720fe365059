import ArgumentParser
import Foundation
import SluiceCore
import SluiceBenchmarks

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

    @Flag(name: .customLong("no-peers"), help: "JavaScript: skip the peers measured beside each workload (Node's vm calling the same transformEvent directly, Benchmarks/node-vm-run.mjs --direct, when node is installed; JavaScriptCore's own JSON.parse + JSON.stringify floor).")
    var noPeers = false

    @Option(name: .customLong("worker-replacement"), help: "Instead of the workloads: kill a worker process this many times (SIGKILL, while idle) and report how long the pool takes to have a replacement ready, and a worker's start-up time.")
    var workerReplacement: Int = 0

    @Option(help: "With --worker-replacement: spare workers kept ready (default 1, as sluice serve).")
    var spares: Int = 1

    @Option(name: .customLong("workers-memory"), help: "Instead of the workloads: start pools of this many idle worker processes with no engine, JavaScript, Python and both, and report each worker's memory (resident, proportional, private anonymous, file-backed; idle and after a batch) and start-up time.")
    var workersMemory: Int = 0

    func run() throws {
        if workerReplacement > 0 { return try benchWorkerReplacement(times: workerReplacement) }
        if workersMemory > 0 { return try benchWorkersMemory(workers: workersMemory) }
        let workload: ReferenceWorkload
        do { workload = try ReferenceWorkload(directory: benchDirectory ?? ReferenceWorkload.defaultDirectory) } catch { throw CLIError("\(error)") }
        guard let language = Language(name: language) else { throw CLIError("--language must be javascript or python") }
        let items = try workload.events(count: events)
        let requestBodies = customTransform ? try workload.requestBodies(count: events, batchSize: batchSize) : []
        let names: [String]
        do { names = try workload.workloads(language, selected: self.workload) } catch { throw CLIError("\(error)") }
        var options = EngineBenchmark.Options()
        options.batchSize = batchSize
        options.seconds = seconds
        options.rounds = rounds
        options.customTransform = customTransform
        options.peers = !noPeers
        let benchmark = EngineBenchmark(workload: workload, options: options)

        var rows: [[String: Any]] = []
        var results: [EngineBenchmark.Result] = []
        for name in names {
            if !json { FileHandle.standardError.write(Data("measuring \(name)…\n".utf8)) }
            let result = try benchmark.measure(name, language: language, items: items, requestBodies: requestBodies)
            rows.append(result.row)
            results.append(result)
        }
        if !json {
            print("sluice bench: \(Wording.counted(items.count, "event")) (\(items.reduce(0) { $0 + $1.count } / max(items.count, 1)) bytes average), batches of \(batchSize), limits \(Limits.defaults.timeMilliseconds) ms / \(Limits.defaults.memoryMegabytes) MB armed; one engine on one thread (per core); events/s: median of \(rounds) rounds (min–max)")
            print(Self.table(results, language: language))
            for result in results {
                if let handler = result.customTransform {
                    print(String(format: "%@: /customTransform handling %.0f events/s; parsing, grouping and mapping add %.0f%% to the time spent in the engine (parsing alone %.0f%%)",
                                 result.workload, handler.eventsPerSecond, handler.overheadPercent, handler.parsingPercent))
                }
            }
            if language == .javascript, !noPeers, !results.contains(where: { $0.nodeDirect != nil }) {
                print("Node vm direct call: not measured (node is not installed, or only transformBatch workloads ran)")
            }
        }
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["batchSize": batchSize, "results": rows], options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
        }
    }

    /// The figures users compare, one row per workload.
    static func table(_ results: [EngineBenchmark.Result], language: Language) -> String {
        func number(_ value: Double?) -> String {
            guard let value else { return "–" }
            return String(format: "%.0f", value)
        }
        func ratio(_ value: Double?) -> String { value.map { String(format: "%.2fx", $0) } ?? "–" }
        var header = ["workload", "compile", "events/s (min–max)", "p50 µs", "p99 µs"]
        header += language == .javascript
            ? ["Node vm direct", "Sluice/Node", "JSC JSON floor", "cost/floor"]
            : ["plain CPython", "Sluice/plain"]
        var rows = [header]
        for result in results {
            var row = [result.workload, String(format: "%.2f ms", result.compileMilliseconds),
                       "\(number(result.median)) (\(number(result.rates.first))–\(number(result.rates.last)))",
                       String(format: "%.1f", result.p50Microseconds), String(format: "%.1f", result.p99Microseconds)]
            if language == .javascript {
                row += [number(result.nodeDirect), ratio(result.ratioToNode), number(result.jsonFloor), ratio(result.costOverFloor)]
            } else {
                row += [number(result.plainCPython), ratio(result.plainCPython.map { result.median / $0 })]
            }
            rows.append(row)
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    func benchWorkerReplacement(times: Int) throws {
        let result = try WorkerReplacementBenchmark(spares: spares).run(times: times)
        func summary(_ values: [Double]) -> String {
            let sorted = values.sorted()
            guard let last = sorted.last else { return "no samples" }
            return String(format: "median %.1f ms, p90 %.1f ms, max %.1f ms", sorted[sorted.count / 2],
                          sorted[min(sorted.count - 1, sorted.count * 9 / 10)], last)
        }
        let resident = result.residentBytes.map { "\($0 >> 20) MB" } ?? "?"
        print("sluice bench --worker-replacement \(times): one worker process and \(Wording.counted(result.spares, "spare")), SIGKILL while idle; an idle worker's resident memory: \(resident)")
        print("  kill -> replacement ready:        \(summary(result.ready))")
        print("  kill -> first batch answered:     \(summary(result.served))")
        print("  worker start (spawn -> hello):    \(summary(result.starts))")
    }
}
