import Foundation
import Logging

/// The store a `--store` value names: a `postgres://` URL, else a SQLite file path
/// (`sqlite:PATH` or a bare path). A new store kind is one more prefix here. `logger` hears where
/// the SQLite file is when it is opened or created.
public func openStore(_ location: String, logger: Logger? = nil) async throws -> any VersionStore {
    if location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") {
        return try await PostgresStore(url: location)
    }
    return try SQLiteStore(path: location.hasPrefix("sqlite:") ? String(location.dropFirst("sqlite:".count)) : location, logger: logger)
}
