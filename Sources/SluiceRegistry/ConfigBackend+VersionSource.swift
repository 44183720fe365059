import SluiceCore

extension ConfigBackend: VersionSource {
    /// ``version(versionID:libraryVersionIDs:)`` as a lookup: a 404 is not found, a 5xx, a
    /// timeout or an unreachable backend unavailable, anything else unexpected invalid.
    public func lookUp(_ versionID: String, libraryVersionIDs: [String]) -> VersionLookup {
        do {
            return .found(try version(versionID: versionID, libraryVersionIDs: libraryVersionIDs))
        } catch {
            switch error {
            case .notFound(let message): return .notFound(message)
            case .transient(let message): return .unavailable(message)
            case .invalid(let message): return .invalid(message)
            }
        }
    }
}
