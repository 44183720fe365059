#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore
import SluiceSandbox

/// `sluice bench --worker-replacement N`: kills the only worker of a one-process pool N times
/// (SIGKILL, while idle) and measures, each time, from the kill to a replacement ready (its hello
/// received) and to the first batch it answers; also a worker's start-up time and an idle
/// worker's resident memory.
public struct WorkerReplacementBenchmark {
    public struct Result: Sendable {
        /// Milliseconds from each kill to a replacement ready.
        public var ready: [Double]
        /// Milliseconds from each kill to the first batch answered.
        public var served: [Double]
        /// Milliseconds from each worker's spawn to its hello.
        public var starts: [Double]
        /// An idle worker's resident memory, in bytes, when it could be read.
        public var residentBytes: Int?
        public var spares: Int
    }

    public let spares: Int
    public init(spares: Int = 1) { self.spares = spares }

    public func run(times: Int) throws -> Result {
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
        guard case .ran = pool.run(probe, batch: batch, limits: .defaults) else { throw BenchWorkload.Problem("the probe did not run") }
        var ready: [Double] = []
        var served: [Double] = []
        for _ in 0..<times {
            // A steady state: the spare has started (the case the pool is built for).
            while pool.status.spares < configuration.spares { usleep(1000) }
            let before = pool.status.replacements
            guard let pid = pool.pids.first else { throw BenchWorkload.Problem("no worker") }
            let killed = ContinuousClock.now
            kill(pid, SIGKILL)
            while pool.status.replacements == before || pool.status.ready == 0 { usleep(200) }
            ready.append((ContinuousClock.now - killed).millisecondsValue)
            guard case .ran = pool.run(probe, batch: batch, limits: .defaults) else { throw BenchWorkload.Problem("the replacement did not answer") }
            served.append((ContinuousClock.now - killed).millisecondsValue)
        }
        let resident = pool.pids.first.flatMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8))?
                .split(separator: "\n").first { $0.hasPrefix("VmRSS:") }?.split(separator: " ").dropFirst().first
        }.flatMap { Int($0) }.map { $0 << 10 }
        return Result(ready: ready, served: served, starts: starts.values.map(\.millisecondsValue), residentBytes: resident, spares: spares)
    }
}

/// Start-up durations reported by the pool's observer (another thread).
final class StartTimes: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var durations: [Duration] = []
    func add(_ duration: Duration) { lock.withLock { durations.append(duration) } }
    var values: [Duration] { lock.withLock { durations } }
}
