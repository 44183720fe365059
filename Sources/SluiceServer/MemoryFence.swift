import Foundation
import SluiceCore

#if canImport(Glibc)
import Glibc
#endif

/// rudder-transformer's memory fencing: while the service's resident memory (the server and its
/// worker processes) is above a share of its budget, requests that would run user code are
/// refused at once with 503, `X-Rudder-Should-Retry: true` and `X-Rudder-Error-Reason:
/// memory_fencing` — rudder-server retries them later — instead of the service growing until the
/// kernel's OOM killer ends it. The memory is sampled at most every 100 ms.
public final class MemoryFence: @unchecked Sendable {
    // @unchecked: the sample is guarded by `lock`.
    public struct Configuration: Sendable {
        /// The budget in bytes: the cgroup's `memory.max` when there is one, else physical memory.
        public var budgetBytes: Int
        /// Refuse above this share of the budget, in percent (1–99; rudder's default, 80).
        public var thresholdPercent: Int = 80

        public init(budgetBytes: Int = MemoryFence.defaultBudget(), thresholdPercent: Int = 80) {
            self.budgetBytes = budgetBytes
            self.thresholdPercent = thresholdPercent
        }

        public var thresholdBytes: Int { Int(Double(budgetBytes) * Double(thresholdPercent) / 100) }
    }

    public let configuration: Configuration
    /// The worker processes' ids (their memory counts too).
    private let workers: @Sendable () -> [Int32]
    private let lock = NSLock()
    private var sampledAt: UInt64 = 0
    private var resident = 0
    private static let refreshNanoseconds: UInt64 = 100_000_000

    public init(configuration: Configuration, workers: @escaping @Sendable () -> [Int32]) {
        self.configuration = configuration
        self.workers = workers
    }

    /// The service's resident memory, sampled at most every 100 ms: the server's, each worker's
    /// own (private) pages, and the pages workers map from files once. Those — the executable's
    /// and the libraries' code, ~35–60 MB per worker — are the same page-cache pages in every
    /// worker; counting them per worker would fence a pod of 8 workers ~400 MB early.
    public var residentBytes: Int {
        let now = monotonicNanoseconds()
        lock.lock()
        defer { lock.unlock() }
        if sampledAt == 0 || now &- sampledAt >= Self.refreshNanoseconds {
            let samples = workers().map(Self.residentBytes(of:))
            resident = ResidentMemory.bytes() + samples.reduce(0) { $0 + $1.total - $1.shared } + (samples.map(\.shared).max() ?? 0)
            sampledAt = now
        }
        return resident
    }

    /// Whether requests that run user code are refused now.
    public var isFencing: Bool { residentBytes > configuration.thresholdBytes }

    /// The plain-text body rudder-transformer answers.
    public static let message = "Server is under high memory load. Please try again later."

    /// Resident bytes of another process and how many of them are mapped from files (shared),
    /// from `/proc/<pid>/statm` (0 when it is gone).
    static func residentBytes(of pid: Int32) -> (total: Int, shared: Int) {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/statm", encoding: .utf8) else { return (0, 0) }
        let fields = text.split(separator: " ")
        guard fields.count > 2, let pages = Int(fields[1]), let shared = Int(fields[2]) else { return (0, 0) }
        let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        return (pages * pageSize, min(shared, pages) * pageSize)
    }

    /// The cgroup (v2) memory limit when one is set, else the machine's physical memory.
    public static func defaultBudget() -> Int {
        if let text = try? String(contentsOfFile: "/sys/fs/cgroup/memory.max", encoding: .utf8),
           let bytes = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes > 0 {
            return min(bytes, Int(ProcessInfo.processInfo.physicalMemory))
        }
        return Int(ProcessInfo.processInfo.physicalMemory)
    }
}
