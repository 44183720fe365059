import Logging
import SluiceCore
import SluiceRegistry
import SluiceSandbox

/// The service's view of the versions: finds a version in the registry's folders (by content id
/// or by name, which means its live version), then in the catalog (the API's store), then at the
/// config backend, and answers it as a program with its pinned libraries and its limits.
final class WorkerResolver: VersionResolver, Sendable {
    private let registry: Registry
    private let limits: Limits
    private let configBackend: ConfigBackend?
    private let catalog: Catalog?
    private let metrics: ServiceMetrics?

    init(registry: Registry, catalog: Catalog? = nil, configBackend: ConfigBackend? = nil, limits: Limits, metrics: ServiceMetrics? = nil) {
        self.metrics = metrics
        self.catalog = catalog
        self.registry = registry
        self.configBackend = configBackend
        self.limits = limits
    }

    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution {
        let version: TransformationVersion
        if let hosted = registry.version(versionID) {
            version = hosted
        } else if let stored = catalogVersion(versionID) {
            switch stored {
            case .success(let found): version = found
            case .failure(let failure): return .failed(Failure(.unavailable, failure.description))
            }
        } else if let configBackend {
            do {
                version = try configBackend.version(versionID: versionID, libraryVersionIDs: libraryVersionIDs)
                metrics?.configBackendFetch(outcome: "ok")
            } catch {
                metrics?.configBackendFetch(outcome: {
                    switch error {
                    case .notFound: "not_found"
                    case .transient: "transient"
                    case .invalid: "invalid"
                    }
                }())
                switch error {
                case .notFound(let message): return .failed(Failure(.notFound, message))
                case .transient(let message): return .failed(Failure(.unavailable, message))
                case .invalid(let message): return .failed(Failure(.compile, message))
                }
            }
        } else {
            return .failed(Failure(.notFound, "Transformation version \(versionID) not found"))
        }
        return .found(Program(version), limits: version.limits.applied(to: limits))
    }

    /// A version the catalog (the API's store) holds, by id or name; a store failure is transient.
    private func catalogVersion(_ idOrName: String) -> Result<TransformationVersion, Catalog.Failure>? {
        guard let catalog else { return nil }
        if let cached = catalog.cachedResolve(idOrName) { return .success(cached) }
        // A worker is a plain thread, so it may wait for the store.
        do {
            return try waitFor { try await catalog.resolve(idOrName) }.map { .success($0) }
        } catch let failure as Catalog.Failure {
            return .failure(failure)
        } catch {
            return .failure(.store("\(error)"))
        }
    }
}
