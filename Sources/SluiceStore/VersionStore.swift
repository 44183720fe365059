import Foundation

/// Transformations and libraries published over the API, and their versions. A store keeps
/// opaque version documents (JSON, written by `Catalog`) under their content ids, plus one
/// "live" pointer per transformation or library; everything else — linking, content ids,
/// validation — happens above it, so the SQLite and PostgreSQL stores stay small and identical
/// in behaviour.
public protocol VersionStore: Sendable {
    /// Adds `item`; false when one of that kind and name already exists (nothing changes).
    func create(_ item: StoredItem) async throws -> Bool
    func item(_ kind: ItemKind, _ name: String) async throws -> StoredItem?
    /// Every item of `kind`, by name.
    func items(_ kind: ItemKind) async throws -> [StoredItem]
    /// Adds a version document under `id`; false when that id is already stored (versions are
    /// immutable: the existing document is kept).
    func addVersion(_ kind: ItemKind, name: String, id: String, document: Data) async throws -> Bool
    /// The versions of one item, oldest first.
    func versions(_ kind: ItemKind, name: String) async throws -> [StoredVersionSummary]
    func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)?
    /// Points the item's live version at `id` (which must be one of its versions).
    func setLive(_ kind: ItemKind, name: String, id: String) async throws
    /// A short description for logs: `sqlite:PATH` or `postgres://host/db`.
    var location: String { get }
    /// Whether the store exists yet: a store created on its first write (SQLite) is not until
    /// something is published, and the catalog keeps folder versions in memory until then.
    var isCreated: Bool { get }

    // Canary rollouts (`Catalog+Rollouts.swift` writes and reads the documents).

    /// The rollout document of transformation `name` with its revision, or nil when it never had one.
    func rollout(_ name: String) async throws -> StoredRollout?
    /// Every transformation's rollout document, by name.
    func rollouts() async throws -> [String: StoredRollout]
    /// Stores `document` as `name`'s rollout, at revision `expectedRevision + 1`, when its revision
    /// is `expectedRevision` now (0: it has none), and appends `auditEntry` to `name`'s audit list
    /// in the same transaction; false, and nothing changes, when another write came first.
    /// Replicas sharing the store agree on every change this way, and each change is audited once.
    func replaceRollout(_ name: String, document: Data, expectedRevision: Int, auditEntry: Data) async throws -> Bool
    /// `name`'s audit entries, oldest first.
    func audit(_ name: String) async throws -> [Data]
    /// Stores (or replaces) one replica's counts of rollout `rolloutID`.
    func putRolloutCounts(_ rolloutID: String, replica: String, document: Data) async throws
    /// Every replica's counts of rollout `rolloutID`, by replica.
    func rolloutCounts(_ rolloutID: String) async throws -> [String: Data]
}

/// A rollout document as a store keeps it: opaque JSON and the count of its writes.
public struct StoredRollout: Sendable, Equatable {
    public var revision: Int
    public var document: Data

    public init(revision: Int, document: Data) {
        self.revision = revision
        self.document = document
    }
}

extension VersionStore {
    public var isCreated: Bool { true }
}

/// A store that tells its replicas at once when a live pointer changes (PostgreSQL's
/// `LISTEN`/`NOTIFY`), so ``Catalog`` can trust its cached pointers instead of re-reading them.
public protocol LiveChangeFeed: VersionStore {
    /// Listens on a connection of its own until that connection fails (it throws) or the task is
    /// cancelled: `listening` is called once changes are being heard (changes made before it may
    /// have been missed: read the live set again then), `change` with every change heard after.
    func followLiveChanges(listening: @escaping @Sendable () async -> Void,
                           change: @escaping @Sendable (LiveChange) async -> Void) async throws
}

/// A live pointer that changed: an item of `kind` named `name` now serves `liveVersion`.
public struct LiveChange: Sendable, Equatable {
    public var kind: ItemKind
    public var name: String
    public var liveVersion: String

    public init(kind: ItemKind, name: String, liveVersion: String) {
        self.kind = kind
        self.name = name
        self.liveVersion = liveVersion
    }

    /// `kind name id`, separated by tabs (names and ids never hold one): the notification's payload.
    public var payload: String { "\(kind.rawValue)\t\(name)\t\(liveVersion)" }

    public init?(payload: String) {
        let parts = payload.split(separator: "\t", omittingEmptySubsequences: false)
        guard parts.count == 3, let kind = ItemKind(rawValue: String(parts[0])), !parts[1].isEmpty, !parts[2].isEmpty else { return nil }
        self.init(kind: kind, name: String(parts[1]), liveVersion: String(parts[2]))
    }
}

public enum ItemKind: String, Sendable, Codable {
    case transformation
    case library
}

/// A transformation or library created over the API.
public struct StoredItem: Sendable, Codable, Equatable {
    public var kind: ItemKind
    public var name: String
    public var language: String
    public var description: String?
    /// The version requests by name run (nil until code is published).
    public var liveVersion: String?
    /// ISO 8601, UTC.
    public var createdAt: String

    public init(kind: ItemKind, name: String, language: String, description: String?, liveVersion: String? = nil, createdAt: String) {
        self.kind = kind
        self.name = name
        self.language = language
        self.description = description
        self.liveVersion = liveVersion
        self.createdAt = createdAt
    }
}

public struct StoredVersionSummary: Sendable, Codable, Equatable {
    public var id: String
    public var createdAt: String
}

/// A store failure: the store cannot be opened or answered with an error.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An ISO 8601 UTC timestamp with milliseconds.
func storeTimestamp(_ date: Date = Date()) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
    formatter.timeZone = TimeZone(identifier: "UTC")
    return formatter.string(from: date)
}
