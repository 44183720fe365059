import SluiceCore

/// The resolver: asks its sources in order (the service's are the folder registry, the API's
/// store, then the config backend) and answers with the first that does not say "not found" —
/// found, unavailable or invalid. When every source says not found, the answer is the last one's
/// (or ``VersionLookup/missing(_:)`` with no sources).
public struct ChainedVersionSources: VersionSource {
    /// Hears every lookup a source answered, in order (for metrics).
    public typealias Observer = @Sendable (_ source: any VersionSource, _ lookup: VersionLookup) -> Void

    public let sources: [any VersionSource]
    public let observer: Observer?

    public init(_ sources: [any VersionSource], observer: Observer? = nil) {
        self.sources = sources
        self.observer = observer
    }

    public func lookUp(_ idOrName: String, libraryVersionIDs: [String]) -> VersionLookup {
        var answer: VersionLookup?
        for source in sources {
            let lookup = source.lookUp(idOrName, libraryVersionIDs: libraryVersionIDs)
            observer?(source, lookup)
            guard case .notFound = lookup else { return lookup }
            answer = lookup
        }
        // The message is only built when no source was asked (every request runs this).
        return answer ?? .missing(idOrName)
    }
}
