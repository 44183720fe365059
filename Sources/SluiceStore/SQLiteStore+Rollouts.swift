import Foundation
import GRDB

/// Canary rollouts and the audit list in the SQLite file: one row per transformation's rollout
/// (its JSON document and a revision for compare-and-set) and one row per audit entry.
extension SQLiteStore {
    static func registerRolloutMigration(_ migrator: inout DatabaseMigrator) {
        migrator.registerMigration("rollouts") { db in
            try db.execute(sql: """
                CREATE TABLE rollouts (name TEXT PRIMARY KEY, revision INTEGER NOT NULL, document BLOB NOT NULL);
                CREATE TABLE audit (seq INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, entry BLOB NOT NULL);
                CREATE INDEX audit_by_name ON audit (name, seq);
                CREATE TABLE rollout_counts (rollout TEXT NOT NULL, replica TEXT NOT NULL, document BLOB NOT NULL, PRIMARY KEY (rollout, replica));
                """)
        }
    }

    public func rollout(_ name: String) async throws -> StoredRollout? {
        try read(empty: nil) { db in
            try Row.fetchOne(db, sql: "SELECT revision, document FROM rollouts WHERE name = ?", arguments: [name])
                .map { StoredRollout(revision: $0["revision"], document: $0["document"]) }
        }
    }

    public func rollouts() async throws -> [String: StoredRollout] {
        try read(empty: [:]) { db in
            var rollouts: [String: StoredRollout] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT name, revision, document FROM rollouts") {
                rollouts[row["name"]] = StoredRollout(revision: row["revision"], document: row["document"])
            }
            return rollouts
        }
    }

    public func replaceRollout(_ name: String, document: Data, expectedRevision: Int, auditEntry: Data) async throws -> Bool {
        // One write transaction: the change and its audit entry, or neither.
        try write { db in
            if expectedRevision == 0 {
                try db.execute(sql: "INSERT OR IGNORE INTO rollouts (name, revision, document) VALUES (?, 1, ?)", arguments: [name, document])
            } else {
                try db.execute(sql: "UPDATE rollouts SET revision = ?, document = ? WHERE name = ? AND revision = ?",
                               arguments: [expectedRevision + 1, document, name, expectedRevision])
            }
            guard db.changesCount == 1 else { return false }
            try db.execute(sql: "INSERT INTO audit (name, entry) VALUES (?, ?)", arguments: [name, auditEntry])
            return true
        }
    }

    public func putRolloutCounts(_ rolloutID: String, replica: String, document: Data) async throws {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO rollout_counts (rollout, replica, document) VALUES (?, ?, ?)", arguments: [rolloutID, replica, document])
        }
    }

    public func rolloutCounts(_ rolloutID: String) async throws -> [String: Data] {
        try read(empty: [:]) { db in
            var counts: [String: Data] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT replica, document FROM rollout_counts WHERE rollout = ?", arguments: [rolloutID]) {
                counts[row["replica"]] = row["document"]
            }
            return counts
        }
    }

    public func audit(_ name: String) async throws -> [Data] {
        try read(empty: []) { db in
            try Row.fetchAll(db, sql: "SELECT entry FROM audit WHERE name = ? ORDER BY seq", arguments: [name]).map { $0["entry"] }
        }
    }
}
