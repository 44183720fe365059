import Foundation
import GRDB

/// The embedded store (the default): one SQLite file through GRDB, created with its folder on
/// first use, migrated in place. Writes are serialised by GRDB's queue; reads see committed data.
public final class SQLiteStore: VersionStore {
    private let queue: DatabaseQueue
    public let path: String
    public var location: String { "sqlite:" + path }

    public init(path: String) throws {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        do {
            if !folder.isEmpty { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
            var configuration = Configuration()
            configuration.busyMode = .timeout(5)
            queue = try DatabaseQueue(path: path, configuration: configuration)
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
            try migrator.migrate(queue)
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
        try read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM items WHERE kind = ? AND name = ?", arguments: [kind.rawValue, name]).map(Self.item)
        }
    }

    public func items(_ kind: ItemKind) async throws -> [StoredItem] {
        try read { db in
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
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, created_at FROM versions WHERE kind = ? AND name = ? ORDER BY seq",
                             arguments: [kind.rawValue, name]).map { StoredVersionSummary(id: $0["id"], createdAt: $0["created_at"]) }
        }
    }

    public func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)? {
        try read { db in
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

    private func read<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.read(body) } catch { throw StoreError("SQLite store \(path): \(error)") }
    }

    private func write<T>(_ body: (Database) throws -> T) throws -> T {
        do { return try queue.write(body) } catch { throw StoreError("SQLite store \(path): \(error)") }
    }
}
