#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore
import SluiceRuntime
import SluiceSandbox

/// `sluice bench --workers-memory N`: for each set of engines a worker can start (none — the
/// process itself —, JavaScript, Python, both), starts a pool of N idle workers and reports what
/// each holds — resident, proportional (its share of pages mapped by several processes: what one
/// more worker costs), private anonymous, file-backed — idle after start-up and again idle after
/// one batch per language; also each worker's start-up time (spawn → hello) and how long the
/// first Python batch waits on a JavaScript-only pool (a worker is widened for it).
public struct WorkerMemoryBenchmark {
    /// What a process holds, in KiB (from /proc/PID/smaps_rollup; /proc/PID/status when that
    /// cannot be read — another user's non-dumpable process —, without ``proportional``).
    public struct Footprint: Sendable {
        public var resident: Int
        /// Nil when smaps_rollup could not be read.
        public var proportional: Int?
        /// Private anonymous memory (heaps, stacks, written data of libraries): what only this
        /// process holds.
        public var anonymous: Int
        /// Pages mapped from files (the executable, libraries), shared with every process that
        /// maps them.
        public var file: Int

        /// Reads `pid`'s footprint; nil when the process is gone.
        public static func read(pid: Int32) -> Footprint? {
            if let text = try? String(contentsOfFile: "/proc/\(pid)/smaps_rollup", encoding: .utf8) {
                let fields = kibibytes(text)
                if let resident = fields["Rss"], let anonymous = fields["Anonymous"] {
                    return Footprint(resident: resident, proportional: fields["Pss"], anonymous: anonymous, file: resident - anonymous - (fields["Pss_Shmem"] ?? 0))
                }
            }
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
            let fields = kibibytes(text)
            guard let resident = fields["VmRSS"], let anonymous = fields["RssAnon"] else { return nil }
            return Footprint(resident: resident, proportional: nil, anonymous: anonymous, file: fields["RssFile"] ?? resident - anonymous)
        }

        /// `Name:   123 kB` lines as name → KiB.
        static func kibibytes(_ text: String) -> [String: Int] {
            var fields: [String: Int] = [:]
            for line in text.split(separator: "\n") {
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                guard parts.count >= 2, parts[0].hasSuffix(":"), let value = Int(parts[1]) else { continue }
                fields[String(parts[0].dropLast())] = value
            }
            return fields
        }

        /// The per-field median of `footprints` (nil when empty).
        static func median(_ footprints: [Footprint]) -> Footprint? {
            guard !footprints.isEmpty else { return nil }
            func middle(_ values: [Int]) -> Int { values.sorted()[values.count / 2] }
            let proportional = footprints.compactMap(\.proportional)
            return Footprint(resident: middle(footprints.map(\.resident)),
                             proportional: proportional.count == footprints.count ? middle(proportional) : nil,
                             anonymous: middle(footprints.map(\.anonymous)), file: middle(footprints.map(\.file)))
        }
    }

    /// One pool: its workers' languages, start-up times and footprints (medians over the workers).
    public struct Row: Sendable {
        public var languages: [Language]
        public var workers: Int
        /// Milliseconds from each worker's spawn to its hello.
        public var starts: [Double]
        public var idle: Footprint
        /// Idle again after one batch of each of its languages' echo transformation (nil for a
        /// worker without engines).
        public var afterBatch: Footprint?
    }

    public struct Result: Sendable {
        public var rows: [Row]
        /// Milliseconds the first Python batch took on a pool of JavaScript-only workers (the
        /// pool starts a worker with both engines for it), nil when it did not run.
        public var widening: Double?
    }

    public let workers: Int
    /// How long workers sit idle before they are measured (the engines' background threads settle).
    public let settle: Duration

    public init(workers: Int = 2, settle: Duration = .milliseconds(500)) {
        self.workers = max(1, workers)
        self.settle = settle
    }

    public func run() throws -> Result {
        let sets: [[Language]] = [[], [.javascript], [.python], [.javascript, .python]]
        var rows: [Row] = []
        for languages in sets { rows.append(try measure(languages)) }
        return Result(rows: rows, widening: try widening())
    }

    /// A pool of ``workers`` workers that start `languages`, measured idle, then after a batch.
    private func measure(_ languages: [Language]) throws -> Row {
        let starts = StartTimes()
        let pool = try WorkerPool(configuration: configuration(languages)) { event in
            if case .started(_, _, let duration) = event { starts.add(duration) }
        }
        defer { pool.shutdown() }
        let idle = try footprints(of: pool)
        var afterBatch: Footprint?
        if !languages.isEmpty {
            for language in languages {
                // Every worker gets the batch: each takes the free worker with the fewest versions.
                for index in 0..<workers { try runEcho(language, on: pool, id: "echo-\(index)") }
            }
            afterBatch = try footprints(of: pool)
        }
        return Row(languages: languages, workers: workers, starts: starts.values.map(\.millisecondsValue), idle: idle, afterBatch: afterBatch)
    }

    /// The first Python batch on a pool of one JavaScript-only worker, in milliseconds.
    private func widening() throws -> Double {
        var configuration = configuration([.javascript])
        configuration.count = 1
        let pool = try WorkerPool(configuration: configuration)
        defer { pool.shutdown() }
        let begin = ContinuousClock.now
        try runEcho(.python, on: pool, id: "widening")
        return (ContinuousClock.now - begin).millisecondsValue
    }

    private func configuration(_ languages: [Language]) -> WorkerPool.Configuration {
        var configuration = WorkerPool.Configuration()
        configuration.count = workers
        configuration.spares = 0  // only the measured workers
        configuration.languages = Set(languages)
        return configuration
    }

    private func footprints(of pool: WorkerPool) throws -> Footprint {
        usleep(UInt32(settle.millisecondsValue * 1000))
        guard let median = Footprint.median(pool.pids.compactMap { Footprint.read(pid: $0) }) else {
            throw BenchWorkload.Problem("no worker's memory could be read")
        }
        return median
    }

    private func runEcho(_ language: Language, on pool: WorkerPool, id: String) throws {
        guard let support = Engines.languages[language] else { throw BenchWorkload.Problem("no engine for \(language.rawValue)") }
        let program = Program(id: "\(id)-\(language.rawValue)", source: support.echoSource(named: id), libraries: [])
        let batch = Batch(items: [Array(#"{"message":{"a":1},"metadata":{}}"#.utf8)])
        guard case .ran = pool.run(program, batch: batch, limits: .defaults) else {
            throw BenchWorkload.Problem("the \(language.rawValue) echo transformation did not run in a worker")
        }
    }
}
