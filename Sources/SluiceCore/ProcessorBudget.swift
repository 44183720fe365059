#if canImport(Glibc)
import Glibc
#endif

/// How many cores this process may really use: the CPUs its affinity mask allows (`taskset`,
/// a cpuset) and no more than its cgroup's CPU quota (`cpu.max`: a container's or a systemd
/// unit's CPU limit), rounded up. A container sees every core of its node through
/// `sysconf(_SC_NPROCESSORS_ONLN)`; one worker per node core under a 2-CPU limit would only make
/// the workers wait for each other's time slices. The default of `--workers` and `--jobs`.
public enum ProcessorBudget {
    /// The cores this process may use (at least 1), read once.
    public static let cores: Int = cores(online: Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))), affinity: affinityCount(),
                                         quotas: cgroupQuotaFiles().compactMap(SystemFile.text))

    /// The budget from its parts: `online` cores, the affinity mask's count (nil: unknown), and
    /// the text of each `cpu.max` on the way from the process's cgroup to the root.
    public static func cores(online: Int, affinity: Int?, quotas: [String]) -> Int {
        var budget = max(1, online)
        if let affinity, affinity > 0 { budget = min(budget, affinity) }
        for text in quotas {
            if let quota = quotaCores(text) { budget = min(budget, quota) }
        }
        return max(1, budget)
    }

    /// Cores a `cpu.max` line allows (`"150000 100000"` → 2: a quota of 1.5 cores, rounded up),
    /// nil for `"max …"` (no quota) or an unreadable line.
    public static func quotaCores(_ text: String) -> Int? {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 1, fields[0] != "max", let quota = Int(fields[0]), quota > 0 else { return nil }
        let period = fields.count >= 2 ? Int(fields[1]) ?? 100_000 : 100_000
        guard period > 0 else { return nil }
        return max(1, (quota + period - 1) / period)
    }

    /// The CPUs in this process's affinity mask (`Cpus_allowed_list` of /proc/self/status), nil
    /// when it cannot be read.
    static func affinityCount() -> Int? {
        guard let status = SystemFile.text("/proc/self/status"),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Cpus_allowed_list:") }) else { return nil }
        return cpuListCount(String(line.dropFirst("Cpus_allowed_list:".count)))
    }

    /// The CPUs a kernel CPU list names (`"0-3,6"` → 5), nil when it is not one.
    public static func cpuListCount(_ list: String) -> Int? {
        var count = 0
        for range in list.trimmingWhitespace.split(separator: ",") {
            let ends = range.split(separator: "-").map { Int($0) }
            switch ends.count {
            case 1: guard ends[0] != nil else { return nil }; count += 1
            case 2:
                guard let low = ends[0], let high = ends[1], high >= low else { return nil }
                count += high - low + 1
            default: return nil
            }
        }
        return count > 0 ? count : nil
    }

    /// The `cpu.max` files of the process's cgroup (v2) and its ancestors, under /sys/fs/cgroup.
    static func cgroupQuotaFiles() -> [String] {
        guard let text = SystemFile.text("/proc/self/cgroup"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("0::") }) else { return [] }
        return quotaFiles(cgroup: String(line.dropFirst(3)))
    }

    /// The `cpu.max` files of cgroup `path` (`/a/b`) and of each ancestor up to the root.
    public static func quotaFiles(cgroup path: String) -> [String] {
        var path = path
        var files: [String] = []
        while true {
            while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
            files.append("/sys/fs/cgroup" + (path == "/" ? "" : path) + "/cpu.max")
            guard path != "/", !path.isEmpty else { break }
            // The parent: the path up to its last "/", or the root.
            path = path.lastIndex(of: "/").map { String(path[..<$0]) } ?? "/"
            if path.isEmpty { path = "/" }
        }
        return files
    }
}
