import SluiceCore
import SluiceSandbox

/// What the code source knows about a transformation version (CONTRACT.md §2.1).
public enum VersionResolution: Sendable {
    /// Found: run `program` under `limits` (the version's own applied to the service's; nil: the
    /// handler's). The executor compiles it, or takes it from its cache.
    case found(Program, limits: Limits?)
    /// The version cannot be run, for every event of the group: ``FailureKind/notFound`` (no such
    /// version), ``FailureKind/unavailable`` (the code source failed in a way a retry can fix) or
    /// ``FailureKind/compile`` (the code source answered with something that is not a version).
    case failed(Failure)
}

/// Finds the transformation version a group names (by content id, or by name for its live
/// version).
public protocol VersionResolver: Sendable {
    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution
}
