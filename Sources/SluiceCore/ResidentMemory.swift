#if canImport(Glibc)
import Glibc
#endif

/// The process's resident memory, read from `/proc/self/statm` through one descriptor opened on
/// first use and kept for the life of the process — so it still works in a confined worker that
/// can no longer open files (the worker reads it once before its filter goes on).
public enum ResidentMemory {
    private static let statm: Int32 = open("/proc/self/statm", O_RDONLY | O_CLOEXEC)
    private static let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    /// Whether the descriptor is open (false: ``bytes()`` always answers 0).
    public static var isAvailable: Bool { statm >= 0 }

    /// Resident set size in bytes, or 0 when it cannot be read.
    public static func bytes() -> Int {
        guard statm >= 0 else { return 0 }
        var buffer = (UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0),
                      UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0), UInt64(0))
        return withUnsafeMutableBytes(of: &buffer) { raw -> Int in
            let count = pread(statm, raw.baseAddress, raw.count - 1, 0)
            guard count > 0 else { return 0 }
            // "size resident shared …": the second field, in pages.
            var index = 0
            while index < count && raw[index] != UInt8(ascii: " ") { index += 1 }
            index += 1
            var pages = 0
            while index < count, raw[index] >= 0x30, raw[index] <= 0x39 {
                pages = pages * 10 + Int(raw[index] - 0x30)
                index += 1
            }
            return pages * pageSize
        }
    }
}
