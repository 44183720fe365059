import Foundation

/// Whether a process runs in CI, by the `CI` variable every CI system sets: set, not empty and
/// not `false` or `0`. In CI nothing records expectations (`sluice test`, Studio's "accept as
/// expected"): they are reviewed and committed by a person, never written by the build.
public enum ContinuousIntegration {
    public static func isSet(in environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        guard let value = environment["CI"]?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return !value.isEmpty && value != "false" && value != "0"
    }
}
