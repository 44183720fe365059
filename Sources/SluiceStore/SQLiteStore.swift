import Foundation
import GRDB
import Logging

/// The embedded store (the default): one SQLite file through GRDB, migrated in place. Writes are
/// serialised by GRDB's queue; reads see committed data.
///
/// The file (and its folder) is created only by the first write — something published over the
/// API — so a service that never publishes leaves no `.sluice/` behind; until then every read
/// answers as an empty store does. An existing file is opened at once. `logger` hears where the
/// store is when it is opened or created.
public final class SQLiteStore: VersionStore, @unchecked Sendable {
    // @unchecked: `opened` is guarded by `lock`.
    private let lock = NSLock()
    private var opened: DatabaseQueue?
    private let logger: Logger?
    public let path: String
    public var location: String { "sqlite:" + path }
    /// Whether the file exists (was there at start, or something has been written since).
    public var isCreated: Bool { lock.withLock { opened != nil } }

    /// Opens `path` when the file exists; otherwise only checks that it could be created there.
    public init(path: String, logger: Logger? = nil) throws {
        self.path = path
        self.logger = logger
        if FileManager.default.fileExists(atPath: path) {
            opened = try Self.open(path)
            logger?.info("API store opened", metadata: ["store.path": "\(path)"])
        } else {
            try Self.checkCreatable(path)
            logger?.debug("API store not created yet: created on the first publish", metadata: ["store.path": "\(path)"])
        }
    }

    /// The nearest folder of `path` that exists must be one this process can create files in
    /// (tried with a probe file, removed at once: permissions alone do not say so for root, or
    /// on a read-only or special file system).
    private static func checkCreatable(_ path: String) throws {
        var folder = ((path as NSString).deletingLastPathComponent as NSString).standardizingPath
        if folder.isEmpty { folder = "." }
        while !FileManager.default.fileExists(atPath: folder) && folder != "/" && folder != "." {
            folder = (folder as NSString).deletingLastPathComponent
            if folder.isEmpty { folder = "." }
        }
        let probe = folder + "/.sluice-store-probe-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: probe, contents: nil) else {
            throw StoreError("cannot create the SQLite store \(path): \(folder) is not writable")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    private static func open(_ path: String) throws -> DatabaseQueue {
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1") { db in
                try db.execute(sql: """
                    CREATE TABLE items (
                        kind TEXT NOT NULL, name TEXT NOT NULL, language TEXT NOT NULL, description TEXT,
                        live_version TEXT, created_at TEXT NOT NULL, PRIMARY KEY (kind, name));
                    CREATE TABLE versions (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
                        document BLOB NOT NULL, created_at TEXT NOT NULL, UNIQUE (kind, id));
                    CREATE INDEX versions_by_item ON versions (kind, name, seq);
                    """)
            }
            registerRolloutMigration(&migrator)
            try migrator.migrate(queue)
            return queue
        } catch {
            throw StoreError("cannot open the SQLite store \(path): \(error)")
        }
    }

    public func create(_ item: StoredItem) async throws -> Bool {
        try write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO items (kind, name, language, description, live_version, created_at) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [item.kind.rawValue, item.name, item.language, item.description, item.liveVersion, item.createdAt])
            return db.changesCount == 1
        }
    }

    public func item(_ kind: ItemKind, _ name: String) async throws -> StoredItem? {
        try read(empty: nil) { db in
            try Row.fetchOne(db, sql: "SELECT * FROM items WHERE kind = ? AND name = ?", arguments: [kind.rawValue, name]).map(Self.item)
        }
    }

    public func items(_ kind: ItemKind) async throws -> [StoredItem] {
        try read(empty: []) { db in
            try Row.fetchAll(db, sql: "SELECT * FROM items WHERE kind = ? ORDER BY name", arguments: [kind.rawValue]).map(Self.item)
        }
    }

    public func addVersion(_ kind: ItemKind, name: String, id: String, document: Data) async throws -> Bool {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO versions (id, kind, name, document, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [id, kind.rawValue, name, document, storeTimestamp()])
            return db.changesCount == 1
        }
    }

    public func versions(_ kind: ItemKind, name: String) async throws -> [StoredVersionSummary] {
        try read(empty: []) { db in
            try Row.fetchAll(db, sql: "SELECT id, created_at FROM versions WHERE kind = ? AND name = ? ORDER BY seq",
                             arguments: [kind.rawValue, name]).map { StoredVersionSummary(id: $0["id"], createdAt: $0["created_at"]) }
        }
    }

    public func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)? {
        try read(empty: nil) { db in
            try Row.fetchOne(db, sql: "SELECT name, document FROM versions WHERE kind = ? AND id = ?", arguments: [kind.rawValue, id])
                .map { (name: $0["name"], document: $0["document"]) }
        }
    }

    public func setLive(_ kind: ItemKind, name: String, id: String) async throws {
        try write { db in
            try db.execute(sql: "UPDATE items SET live_version = ? WHERE kind = ? AND name = ?", arguments: [id, kind.rawValue, name])
        }
    }

    private static func item(_ row: Row) -> StoredItem {
        StoredItem(kind: ItemKind(rawValue: row["kind"]) ?? .transformation, name: row["name"], language: row["language"],
                   description: row["description"], liveVersion: row["live_version"], createdAt: row["created_at"])
    }

    /// `body` over the database; `empty` when the file has not been created yet.
    func read<T>(empty: T, _ body: (Database) throws -> T) throws -> T {
        guard let queue = lock.withLock({ opened }) else { return empty }
        do { return try queue.read(body) } catch { throw StoreError("SQLite store \(path): \(error)") }
    }

    /// `body` over the database, created now if it was not.
    func write<T>(_ body: (Database) throws -> T) throws -> T {
        let queue = try lock.withLock { () throws -> DatabaseQueue in
            if let opened { return opened }
            let created = try Self.open(path)
            opened = created
            logger?.info("API store created", metadata: ["store.path": "\(path)"])
            return created
        }
        do { return try queue.write(body) } catch { throw StoreError("SQLite store \(path): \(error)") }
    }
}
