import SluiceCore

/// A place transformation versions come from: the folder `Registry`, the API's catalog (in
/// `SluiceStore`), a rudder `ConfigBackend`. `ChainedVersionSources` asks several in order.
///
/// A lookup may block its thread while it asks a store or a remote backend: call it from the
/// engine workers (plain threads), never from async code.
public protocol VersionSource: Sendable {
    /// The version `idOrName` names — a content id, a name (its live version), or a config
    /// backend's `VersionID` linked with the user libraries `libraryVersionIDs` (sources that pin
    /// their own libraries ignore them).
    func lookUp(_ idOrName: String, libraryVersionIDs: [String]) -> VersionLookup
}
