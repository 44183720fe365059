import SluiceCore

extension Registry: VersionSource {
    /// The folder version `idOrName` names (content id or name); the folders are always there,
    /// so never unavailable.
    public func lookUp(_ idOrName: String, libraryVersionIDs: [String]) -> VersionLookup {
        version(idOrName).map(VersionLookup.found) ?? .missing(idOrName)
    }
}
