import SluiceCore
import SluiceRegistry

/// The service's view of the versions: asks its ``VersionSource`` (the registry's folders, the
/// API's store, the config backend, in that order — by content id, or by name for the live
/// version) and answers a version as a program with its pinned libraries and its limits applied
/// to the service's.
final class ServiceResolver: VersionResolver, Sendable {
    private let versions: any VersionSource
    private let limits: Limits

    init(versions: any VersionSource, limits: Limits) {
        self.versions = versions
        self.limits = limits
    }

    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution {
        switch versions.lookUp(versionID, libraryVersionIDs: libraryVersionIDs) {
        case .found(let version): .found(Program(version), limits: version.limits.applied(to: limits))
        case .notFound(let message): .failed(Failure(.notFound, message))
        case .unavailable(let message): .failed(Failure(.unavailable, message))
        case .invalid(let message): .failed(Failure(.compile, message))
        }
    }
}
