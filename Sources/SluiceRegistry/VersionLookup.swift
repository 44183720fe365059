import SluiceCore

/// What a `VersionSource` answers for one id or name.
public enum VersionLookup: Sendable, Equatable {
    /// The version.
    case found(TransformationVersion)
    /// The source does not hold it; the message says what is missing (a library, say).
    case notFound(String)
    /// The source could not answer now (a store that is down, a config backend's 5xx or no
    /// answer): a retry may find it.
    case unavailable(String)
    /// The source answered with something unusable (a config backend record without code, an
    /// unsupported language): retrying gives the same.
    case invalid(String)

    /// Not found, in the words rudder-transformer uses for a version nobody holds.
    public static func missing(_ idOrName: String) -> VersionLookup {
        .notFound("Transformation version \(idOrName) not found")
    }
}
