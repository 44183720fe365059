import Foundation
import Logging
import PostgresNIO

/// The shared store: one PostgreSQL database (postgres-nio's pooled client), so several replicas
/// of the service serve the same API-published transformations. Selected with a
/// `postgres://user:password@host:port/database` URL (`?sslmode=require` for TLS). Tables are
/// created on first use (`sluice_items`, `sluice_versions`); inserts are idempotent
/// (`ON CONFLICT DO NOTHING`), so replicas publishing the same code at once agree on one version.
///
/// Moving a live pointer also sends `NOTIFY sluice_changes` (payload ``LiveChange/payload``) in the
/// same statement, so it is heard exactly when it commits; ``followLiveChanges(listening:change:)``
/// listens for it on a connection of its own (`application_name` ``listenerApplicationName``).
public final class PostgresStore: LiveChangeFeed {
    private let client: PostgresClient
    private let runner: Task<Void, Never>
    public let location: String
    /// How long one store call may take (connecting included) before it fails.
    public let timeout: Duration
    /// The notification channel live-pointer changes are sent on.
    public static let channel = "sluice_changes"
    /// The `application_name` of the connection that listens for changes (`pg_stat_activity`
    /// shows it; unique per store object).
    public let listenerApplicationName: String
    /// How often the listening connection is checked with a query (a connection cut without a
    /// word — a lost network — otherwise looks like a quiet one).
    public let listenerCheckInterval: Duration
    private let listenerConfiguration: PostgresConnection.Configuration

    /// Connects (lazily, through the pool) and creates the tables when missing; throws when the
    /// URL is malformed or the database cannot be reached within `timeout`.
    public init(url: String, timeout: Duration = .seconds(10), listenerCheckInterval: Duration = .seconds(5)) async throws {
        guard let components = URLComponents(string: url), ["postgres", "postgresql"].contains(components.scheme ?? ""),
              let host = components.host, !host.isEmpty, let user = components.user else {
            throw StoreError("a PostgreSQL store URL looks like postgres://user:password@host:5432/database, not \(url)")
        }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let requireTLS = components.queryItems?.contains { $0.name == "sslmode" && ["require", "verify-full", "verify-ca"].contains($0.value ?? "") } ?? false
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = 8
        var logger = Logger(label: "sluice.postgres")
        logger.logLevel = .warning
        let client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        listenerApplicationName = "sluice-listener-" + UUID().uuidString.prefix(8).lowercased()
        var listenerConfiguration = PostgresConnection.Configuration(
            host: host, port: components.port ?? 5432, username: user, password: components.password,
            database: database.isEmpty ? nil : database, tls: requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable)
        listenerConfiguration.options.additionalStartupParameters = [("application_name", listenerApplicationName)]
        self.listenerConfiguration = listenerConfiguration
        self.listenerCheckInterval = listenerCheckInterval
        self.client = client
        self.timeout = timeout
        runner = Task { await client.run() }
        location = "postgres://\(host):\(components.port ?? 5432)/\(database)"
        do {
            try await Self.within(timeout) { try await Self.migrate(client) }
        } catch {
            runner.cancel()
            throw StoreError("cannot use the PostgreSQL store \(location): \(Self.describe(error))")
        }
    }

    /// Creates the tables in one statement, under a transaction-scoped advisory lock: replicas
    /// starting together would otherwise race in `CREATE TABLE IF NOT EXISTS` (PostgreSQL reports
    /// a duplicate type). One statement, so the lock is held for one round trip and released by
    /// the server when the statement ends — never kept by a client that stalls or gives up
    /// half-way (a session lock held across a dozen round trips by a starved process once kept
    /// every other replica waiting past its start-up timeout).
    private static func migrate(_ client: PostgresClient) async throws {
        try await client.withConnection { connection in
            try await connection.query(PostgresQuery(unsafeSQL: migration), logger: Logger(label: "sluice.postgres"))
        }
    }

    /// The schema: every table and index, created when missing.
    static let migration = """
        DO $migration$
        BEGIN
            PERFORM pg_advisory_xact_lock(7264120);
            CREATE TABLE IF NOT EXISTS sluice_items (
                kind TEXT NOT NULL, name TEXT NOT NULL, language TEXT NOT NULL, description TEXT,
                live_version TEXT, created_at TEXT NOT NULL, PRIMARY KEY (kind, name));
            CREATE TABLE IF NOT EXISTS sluice_versions (
                seq BIGSERIAL PRIMARY KEY, id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
                document TEXT NOT NULL, created_at TEXT NOT NULL, UNIQUE (kind, id));
            CREATE INDEX IF NOT EXISTS sluice_versions_by_item ON sluice_versions (kind, name, seq);
        \(rolloutSchema)
        END
        $migration$
        """

    deinit { runner.cancel() }

    public func create(_ item: StoredItem) async throws -> Bool {
        try await call { client in
            let rows = try await client.query("""
                INSERT INTO sluice_items (kind, name, language, description, live_version, created_at)
                VALUES (\(item.kind.rawValue), \(item.name), \(item.language), \(item.description), \(item.liveVersion), \(item.createdAt))
                ON CONFLICT DO NOTHING RETURNING name
                """)
            return try await Self.count(rows) == 1
        }
    }

    public func item(_ kind: ItemKind, _ name: String) async throws -> StoredItem? {
        try await items(query: "SELECT kind, name, language, description, live_version, created_at FROM sluice_items WHERE kind = \(kind.rawValue) AND name = \(name)").first
    }

    public func items(_ kind: ItemKind) async throws -> [StoredItem] {
        try await items(query: "SELECT kind, name, language, description, live_version, created_at FROM sluice_items WHERE kind = \(kind.rawValue) ORDER BY name")
    }

    public func addVersion(_ kind: ItemKind, name: String, id: String, document: Data) async throws -> Bool {
        let text = String(decoding: document, as: UTF8.self)
        return try await call { client in
            let rows = try await client.query("""
                INSERT INTO sluice_versions (id, kind, name, document, created_at)
                VALUES (\(id), \(kind.rawValue), \(name), \(text), \(storeTimestamp()))
                ON CONFLICT (kind, id) DO NOTHING RETURNING id
                """)
            return try await Self.count(rows) == 1
        }
    }

    public func versions(_ kind: ItemKind, name: String) async throws -> [StoredVersionSummary] {
        try await call { client in
            var versions: [StoredVersionSummary] = []
            let rows = try await client.query("SELECT id, created_at FROM sluice_versions WHERE kind = \(kind.rawValue) AND name = \(name) ORDER BY seq")
            for try await (id, createdAt) in rows.decode((String, String).self) { versions.append(StoredVersionSummary(id: id, createdAt: createdAt)) }
            return versions
        }
    }

    public func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)? {
        try await call { client in
            let rows = try await client.query("SELECT name, document FROM sluice_versions WHERE kind = \(kind.rawValue) AND id = \(id)")
            for try await (name, document) in rows.decode((String, String).self) { return (name, Data(document.utf8)) }
            return nil
        }
    }

    /// Moves the pointer and notifies the other replicas in one statement (one transaction: the
    /// notification is delivered when, and only if, the change commits).
    public func setLive(_ kind: ItemKind, name: String, id: String) async throws {
        try await call { client in
            let rows = try await client.query("""
                WITH changed AS (
                    UPDATE sluice_items SET live_version = \(id) WHERE kind = \(kind.rawValue) AND name = \(name)
                    RETURNING kind, name, live_version)
                SELECT pg_notify(\(Self.channel), kind || E'\\t' || name || E'\\t' || live_version) FROM changed
                """)
            _ = try await Self.count(rows)
        }
    }

    struct ListenerEnded: Error, CustomStringConvertible {
        var description: String { "the listening connection was closed" }
    }

    public func followLiveChanges(listening: @escaping @Sendable () async -> Void,
                                  change: @escaping @Sendable (LiveChange) async -> Void) async throws {
        let configuration = listenerConfiguration, timeout = self.timeout, checkInterval = listenerCheckInterval
        var quiet = Logger(label: "sluice.postgres")
        quiet.logLevel = .warning
        let logger = quiet
        let connection: PostgresConnection
        do {
            connection = try await Self.within(timeout) { try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger) }
        } catch {
            throw StoreError("PostgreSQL store \(location): cannot open the listening connection: \(Self.describe(error))")
        }
        do {
            try await connection.listen(on: Self.channel) { notifications in
                await listening()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for try await notification in notifications {
                            if let heard = LiveChange(payload: notification.payload) { await change(heard) }
                        }
                        throw ListenerEnded()
                    }
                    group.addTask {
                        while true {
                            try await Task.sleep(for: checkInterval)
                            try await Self.within(timeout) { _ = try await connection.query("SELECT 1", logger: logger) }
                        }
                    }
                    defer { group.cancelAll() }
                    try await group.next()
                }
            }
        } catch {
            try? await connection.close()
            if error is CancellationError || Task.isCancelled { throw CancellationError() }
            throw StoreError("PostgreSQL store \(location): the listening connection failed: \(Self.describe(error))")
        }
        try? await connection.close()
    }

    private func items(query: PostgresQuery) async throws -> [StoredItem] {
        try await call { client in
            var items: [StoredItem] = []
            let rows = try await client.query(query)
            for try await (kind, name, language, description, live, createdAt) in rows.decode((String, String, String, String?, String?, String).self) {
                items.append(StoredItem(kind: ItemKind(rawValue: kind) ?? .transformation, name: name, language: language,
                                        description: description, liveVersion: live, createdAt: createdAt))
            }
            return items
        }
    }

    static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var count = 0
        for try await _ in rows { count += 1 }
        return count
    }

    func call<T: Sendable>(_ body: @escaping @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let client = self.client
        do { return try await Self.within(timeout) { try await body(client) } } catch { throw StoreError("PostgreSQL store \(location): \(Self.describe(error))") }
    }

    struct TimedOut: Error, CustomStringConvertible {
        let duration: Duration
        var description: String { "no answer within \(duration)" }
    }

    /// `body`'s result, or `TimedOut` after `duration` (the pool retries a lost server forever).
    static func within<T: Sendable>(_ duration: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: duration)
                throw TimedOut(duration: duration)
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    /// PSQLError hides the server's message from `description`; this shows it.
    static func describe(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
