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
