import Foundation
import Logging
import PostgresNIO

/// Canary rollouts and the audit list in PostgreSQL (`sluice_rollouts`, `sluice_audit`), so every
/// replica sharing the database applies the same rollout and writes to one audit list. A change
/// is a compare-and-set on the revision: of replicas racing to apply the same step or rollback,
/// one wins and the others see that they lost.
extension PostgresStore {
    /// The rollout tables, part of ``migration``.
    static let rolloutSchema = """
            CREATE TABLE IF NOT EXISTS sluice_rollouts (name TEXT PRIMARY KEY, revision BIGINT NOT NULL, document TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS sluice_audit (seq BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, entry TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS sluice_audit_by_name ON sluice_audit (name, seq);
            CREATE TABLE IF NOT EXISTS sluice_rollout_counts (
                rollout TEXT NOT NULL, replica TEXT NOT NULL, document TEXT NOT NULL, PRIMARY KEY (rollout, replica));
        """

    public func rollout(_ name: String) async throws -> StoredRollout? {
        try await call { client in
            let rows = try await client.query("SELECT revision, document FROM sluice_rollouts WHERE name = \(name)")
            for try await (revision, document) in rows.decode((Int64, String).self) {
                return StoredRollout(revision: Int(revision), document: Data(document.utf8))
            }
            return nil
        }
    }

    public func rollouts() async throws -> [String: StoredRollout] {
        try await call { client in
            var rollouts: [String: StoredRollout] = [:]
            let rows = try await client.query("SELECT name, revision, document FROM sluice_rollouts")
            for try await (name, revision, document) in rows.decode((String, Int64, String).self) {
                rollouts[name] = StoredRollout(revision: Int(revision), document: Data(document.utf8))
            }
            return rollouts
        }
    }

    /// One statement: the audit entry is inserted from the change's returned row, so it is written
    /// exactly when the change is (a statement is atomic).
    public func replaceRollout(_ name: String, document: Data, expectedRevision: Int, auditEntry: Data) async throws -> Bool {
        let text = String(decoding: document, as: UTF8.self)
        let entry = String(decoding: auditEntry, as: UTF8.self)
        let expected = Int64(expectedRevision)
        return try await call { client in
            let rows: PostgresRowSequence
            if expected == 0 {
                rows = try await client.query("""
                    WITH changed AS (
                        INSERT INTO sluice_rollouts (name, revision, document) VALUES (\(name), 1, \(text))
                        ON CONFLICT (name) DO NOTHING RETURNING name)
                    INSERT INTO sluice_audit (name, entry) SELECT name, \(entry) FROM changed RETURNING name
                    """)
            } else {
                rows = try await client.query("""
                    WITH changed AS (
                        UPDATE sluice_rollouts SET revision = \(expected + 1), document = \(text)
                        WHERE name = \(name) AND revision = \(expected) RETURNING name)
                    INSERT INTO sluice_audit (name, entry) SELECT name, \(entry) FROM changed RETURNING name
                    """)
            }
            return try await Self.count(rows) == 1
        }
    }

    public func putRolloutCounts(_ rolloutID: String, replica: String, document: Data) async throws {
        let text = String(decoding: document, as: UTF8.self)
        try await call { client in
            try await client.query("""
                INSERT INTO sluice_rollout_counts (rollout, replica, document) VALUES (\(rolloutID), \(replica), \(text))
                ON CONFLICT (rollout, replica) DO UPDATE SET document = EXCLUDED.document
                """)
        }
    }

    public func rolloutCounts(_ rolloutID: String) async throws -> [String: Data] {
        try await call { client in
            var counts: [String: Data] = [:]
            let rows = try await client.query("SELECT replica, document FROM sluice_rollout_counts WHERE rollout = \(rolloutID)")
            for try await (replica, document) in rows.decode((String, String).self) { counts[replica] = Data(document.utf8) }
            return counts
        }
    }

    public func audit(_ name: String) async throws -> [Data] {
        try await call { client in
            var entries: [Data] = []
            let rows = try await client.query("SELECT entry FROM sluice_audit WHERE name = \(name) ORDER BY seq")
            for try await entry in rows.decode(String.self) { entries.append(Data(entry.utf8)) }
            return entries
        }
    }
}
