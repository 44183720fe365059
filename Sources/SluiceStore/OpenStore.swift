import Foundation

/// The store a `--store` value names: a `postgres://` URL, else a SQLite file path
/// (`sqlite:PATH` or a bare path). A new store kind is one more prefix here.
public func openStore(_ location: String) async throws -> any VersionStore {
    if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
        return try await PostgresStore(url: location)
    }
    return try SQLiteStore(path: location.hasPrefix("sqlite:") ? String(location.dropFirst("sqlite:".count)) : location)
}
