#if canImport(Glibc)
import Glibc
#endif

/// Whether a process runs in CI, by the `CI` variable every CI system sets: set, not empty and
/// not `false` or `0`. In CI nothing records expectations (`sluice test`, Studio's "accept as
/// expected"): they are reviewed and committed by a person, never written by the build.
public enum ContinuousIntegration {
    /// Whether this process's environment says so.
    public static func isSet() -> Bool {
        isSet(in: getenv("CI").map { ["CI": String(cString: $0)] } ?? [:])
    }

    public static func isSet(in environment: [String: String]) -> Bool {
        guard let raw = environment["CI"] else { return false }
        let value = raw.trimmingWhitespace.lowercased()
        return !value.isEmpty && value != "false" && value != "0"
    }
}
