import SluiceCore
import SluiceRegistry

extension Catalog: VersionSource {
    /// An API version by content id, or a name's live version: from the cache when it can,
    /// else from the store, waiting for it (so only from the engine workers, never from async
    /// code). A store that fails is unavailable.
    public func lookUp(_ idOrName: String, libraryVersionIDs: [String]) -> VersionLookup {
        if let cached = cachedResolve(idOrName) { return .found(cached) }
        do {
            return try waitFor { try await self.resolve(idOrName) }.map(VersionLookup.found) ?? .missing(idOrName)
        } catch {
            return .unavailable("\(error)")
        }
    }
}
