import Foundation
import SluiceCore
import SluiceRegistry

/// Transformations and libraries managed over the native API, kept in a `VersionStore`:
/// creating them, publishing code as new content-addressed versions (the same code gives the same
/// id and no new version), pinning the live version (which is also how to roll back), and
/// finding versions for requests. Names the folder registry holds belong to the folder: the API
/// cannot create or shadow them.
///
/// Decoded versions are cached by id (they never change). Live pointers are cached too: while the
/// store pushes changes (PostgreSQL `LISTEN`/`NOTIFY`, see ``startFollowing(observer:)``) a cached
/// pointer stays valid until a change replaces it, so a publish on one replica is served by the
/// others within milliseconds; otherwise a pointer is re-read from the store after `liveTTL`.
/// The catalog also keeps the whole live version set and its digest (``storeStatus``), so
/// replicas can be compared.
public final class Catalog: @unchecked Sendable {
    // @unchecked: the caches are guarded by `lock`.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case notFound(String)
        case conflict(String)
        case invalid(String)
        case store(String)

        public var description: String {
            switch self {
            case .notFound(let message), .conflict(let message), .invalid(let message), .store(let message): message
            }
        }
    }

    public let store: any VersionStore
    public let folder: Registry
    let lock = NSLock()
    private var versionCache: [String: TransformationVersion] = [:]
    private var liveCache: [String: CachedLive] = [:]
    /// Every item's live version, as last read or heard (see `Catalog+Following.swift`).
    var liveSet: [LiveKey: LiveEntry] = [:]
    /// Counts live-pointer writes heard or made here; a read of the store started at sequence `s`
    /// never overwrites an entry written after `s` (it would bring back an older pointer).
    var sequence: UInt64 = 0
    var feedState: StoreStatus.State?
    var lastChange: Date?
    var notificationsHeard = 0
    var liveSummary = LiveSummary([:])
    var following: Task<Void, Never>?
    /// Folder versions archived while the store did not exist yet (``VersionStore/isCreated``),
    /// written with the first thing published.
    private var pendingArchive: [TransformationVersion] = []
    /// How long a cached live pointer is trusted while changes are not pushed (and how often the
    /// store is polled then).
    public let liveTTL: Duration

    struct CachedLive {
        var id: String?
        var read: ContinuousClock.Instant
        var sequence: UInt64
    }
    /// Rollouts read from the store, re-read after `liveTTL` (`Catalog+Rollouts.swift`).
    let rolloutCache = RolloutCache()

    public init(store: any VersionStore, folder: Registry, liveTTL: Duration = .seconds(1)) {
        self.store = store
        self.folder = folder
        self.liveTTL = liveTTL
    }

    // MARK: - Transformations

    public func createTransformation(name: String, language: String, description: String?) async throws(Failure) -> StoredItem {
        guard Self.isValidName(name) else {
            throw .invalid("a transformation name is 1–100 letters, digits, '.', '_' or '-', starting with a letter or digit (got \"\(name)\")")
        }
        guard let parsed = Language(name: language) else { throw .invalid("unknown language \"\(language)\" (use javascript, python or pythonfaas)") }
        if folder.version(name) != nil { throw .conflict("\(name) is managed in the transformations folder") }
        let item = StoredItem(kind: .transformation, name: name, language: parsed.rawValue, description: description, createdAt: storeTimestamp())
        try await writePendingArchive()
        guard try await storeCall({ try await store.create(item) }) else { throw .conflict("transformation \(name) already exists") }
        return item
    }

    public func transformation(_ name: String) async throws(Failure) -> StoredItem? {
        try await storeCall { try await store.item(.transformation, name) }
    }

    public func transformations() async throws(Failure) -> [StoredItem] {
        try await storeCall { try await store.items(.transformation) }
    }

    /// Publishes `code` as the transformation's live version: a new version when the content is
    /// new (`created` true), else the existing one. Libraries are linked (and pinned) from the
    /// API's live libraries first, then the folder's.
    public func publishCode(name: String, code: String, limits: LimitsOverride = LimitsOverride()) async throws(Failure) -> (version: TransformationVersion, created: Bool) {
        guard let item = try await transformation(name) else { throw .notFound("transformation \(name) not found") }
        guard let language = Language(name: item.language) else { throw .invalid("transformation \(name) has an unknown language") }
        guard !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .invalid("the code is empty") }
        if let time = limits.timeMilliseconds, time < 1 { throw .invalid("limits.timeMilliseconds must be at least 1") }
        if let memory = limits.memoryMegabytes, memory < 1 { throw .invalid("limits.memoryMegabytes must be at least 1") }
        let source = TransformationSource(name: name, language: language, fileName: "transform.\(language.fileExtension)", code: code)
        let version: TransformationVersion
        do {
            let live = InMemoryLibraries(try await liveLibraries(language: language))
            version = try TransformationVersion.linking(source, from: ChainedLibraries([live, LibraryDirectory(root: folder.librariesRoot, languages: folder.languages)]), languages: folder.languages,
                                                        limits: limits, description: item.description, origin: "api")
        } catch let failure as Failure {
            throw failure
        } catch {
            throw .store("\(error)")
        }
        let document = Self.encode(version)
        let created = try await storeCall { try await store.addVersion(.transformation, name: name, id: version.id, document: document) }
        lock.withLock { versionCache[version.id] = version }
        try await setLive(LiveChange(kind: .transformation, name: name, liveVersion: version.id))
        return (version, created)
    }

    /// Makes `versionID` (one of the transformation's versions) the live one.
    public func publish(name: String, versionID: String) async throws(Failure) {
        guard try await transformation(name) != nil else { throw .notFound("transformation \(name) not found") }
        guard let stored = try await storeCall({ try await store.document(.transformation, id: versionID) }), stored.name == name else {
            throw .notFound("transformation \(name) has no version \(versionID)")
        }
        try await setLive(LiveChange(kind: .transformation, name: name, liveVersion: versionID))
    }

    /// Moves a live pointer in the store, then here (unless a newer change was heard meanwhile).
    private func setLive(_ change: LiveChange) async throws(Failure) {
        let start = lock.withLock { sequence }
        try await storeCall { try await store.setLive(change.kind, name: change.name, id: change.liveVersion) }
        lock.withLock { _ = record(change, since: start) }
    }

    public func versions(of name: String) async throws(Failure) -> [StoredVersionSummary] {
        guard try await transformation(name) != nil else { throw .notFound("transformation \(name) not found") }
        return try await storeCall { try await store.versions(.transformation, name: name) }
    }

    /// Keeps folder versions in the store too, so a data plane still naming an old content id
    /// after an edit and a restart gets the code it was configured with. Idempotent.
    /// With `createStore` false (the folder's versions at start-up), a store that does not exist
    /// yet is not created for this: the versions wait in memory and are written with the first
    /// thing published, or the first folder change (a replaced version is history worth keeping).
    public func archive(_ versions: [TransformationVersion], createStore: Bool = true) async throws(Failure) {
        guard createStore || store.isCreated else {
            lock.withLock {
                for version in versions {
                    versionCache[version.id] = version
                    if !pendingArchive.contains(where: { $0.id == version.id }) { pendingArchive.append(version) }
                }
            }
            return
        }
        try await writePendingArchive()
        for version in versions {
            _ = try await storeCall { try await store.addVersion(.transformation, name: version.name, id: version.id, document: Self.encode(version)) }
            lock.withLock { versionCache[version.id] = version }
        }
    }

    /// The archived versions of a folder transformation (oldest first). Versions waiting for the
    /// store to exist are not listed: until a change, the folder has only its live version.
    public func archivedVersions(of name: String) async throws(Failure) -> [StoredVersionSummary] {
        try await storeCall { try await store.versions(.transformation, name: name) }
    }

    /// Writes the folder versions archived before the store existed (see ``archive(_:)``).
    private func writePendingArchive() async throws(Failure) {
        let pending = lock.withLock { pendingArchive }
        guard !pending.isEmpty else { return }
        for version in pending {
            _ = try await storeCall { try await store.addVersion(.transformation, name: version.name, id: version.id, document: Self.encode(version)) }
        }
        lock.withLock { pendingArchive.removeAll { waiting in pending.contains { $0.id == waiting.id } } }
    }

    /// A stored transformation version by content id.
    public func version(id: String) async throws(Failure) -> TransformationVersion? {
        if let cached = lock.withLock({ versionCache[id] }) { return cached }
        guard let stored = try await storeCall({ try await store.document(.transformation, id: id) }) else { return nil }
        let version = try Self.decode(stored.document, expectedID: id)
        lock.withLock { versionCache[id] = version }
        return version
    }

    /// The live version of an API transformation, by name.
    public func liveVersion(name: String) async throws(Failure) -> TransformationVersion? {
        let now = ContinuousClock.now
        var liveID: String?
        let (cached, start) = lock.withLock { (liveCache[name].flatMap { isFresh($0, now: now) ? $0 : nil }, sequence) }
        if let cached {
            liveID = cached.id
        } else {
            liveID = try await transformation(name)?.liveVersion
            lock.withLock {
                // A change heard while the store answered is newer than the answer.
                if let entry = liveCache[name], entry.sequence > start { liveID = entry.id } else { liveCache[name] = CachedLive(id: liveID, read: now, sequence: start) }
            }
        }
        guard let liveID else { return nil }
        return try await version(id: liveID)
    }

    /// A version by content id, or the live version of a name.
    public func resolve(_ idOrName: String) async throws(Failure) -> TransformationVersion? {
        if idOrName.hasPrefix("sv"), let version = try await version(id: idOrName) { return version }
        return try await liveVersion(name: idOrName)
    }

    // MARK: - Libraries

    public func createLibrary(name: String, language: String, description: String?) async throws(Failure) -> StoredItem {
        guard let parsed = Language(name: language) else { throw .invalid("unknown language \"\(language)\" (use javascript, python or pythonfaas)") }
        guard Self.isValidLibraryName(name, language: parsed) else {
            throw .invalid(parsed == .python
                ? "a Python library name is an identifier: letters, digits and '_', not starting with a digit (got \"\(name)\")"
                : "a library name is letters, digits, '_', '-' or '.', not starting with '.' (got \"\(name)\")")
        }
        if (try? LibraryDirectory(root: folder.librariesRoot, languages: folder.languages).library(importName: name, language: parsed)) != nil {
            throw .conflict("library \(name) is managed in the libraries folder")
        }
        let item = StoredItem(kind: .library, name: name, language: parsed.rawValue, description: description, createdAt: storeTimestamp())
        try await writePendingArchive()
        guard try await storeCall({ try await store.create(item) }) else { throw .conflict("library \(name) already exists") }
        return item
    }

    public func library(_ name: String) async throws(Failure) -> StoredItem? {
        try await storeCall { try await store.item(.library, name) }
    }

    public func libraries() async throws(Failure) -> [StoredItem] {
        try await storeCall { try await store.items(.library) }
    }

    /// Publishes library code as the library's live version. Transformation versions already
    /// published keep the library code they pinned; publish them again to link this one.
    public func publishLibraryCode(name: String, code: String) async throws(Failure) -> (id: String, created: Bool) {
        guard let item = try await library(name) else { throw .notFound("library \(name) not found") }
        guard let language = Language(name: item.language) else { throw .invalid("library \(name) has an unknown language") }
        guard !code.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw .invalid("the code is empty") }
        let source = LibrarySource(importName: name, language: language, fileName: "\(name).\(language.fileExtension)", code: code)
        let id = source.contentID
        let document = (try? JSONEncoder().encode(LibraryDocument(source))) ?? Data()
        let created = try await storeCall { try await store.addVersion(.library, name: name, id: id, document: document) }
        try await setLive(LiveChange(kind: .library, name: name, liveVersion: id))
        return (id, created)
    }

    public func publishLibrary(name: String, versionID: String) async throws(Failure) {
        guard try await library(name) != nil else { throw .notFound("library \(name) not found") }
        guard let stored = try await storeCall({ try await store.document(.library, id: versionID) }), stored.name == name else {
            throw .notFound("library \(name) has no version \(versionID)")
        }
        try await setLive(LiveChange(kind: .library, name: name, liveVersion: versionID))
    }

    public func libraryVersions(of name: String) async throws(Failure) -> [StoredVersionSummary] {
        guard try await library(name) != nil else { throw .notFound("library \(name) not found") }
        return try await storeCall { try await store.versions(.library, name: name) }
    }

    public func libraryVersion(id: String) async throws(Failure) -> LibrarySource? {
        guard let stored = try await storeCall({ try await store.document(.library, id: id) }) else { return nil }
        guard let document = try? JSONDecoder().decode(LibraryDocument.self, from: stored.document), let source = document.source else {
            throw .store("library version \(id) is unreadable")
        }
        return source
    }

    /// The live code of every API library in `language`.
    public func liveLibraries(language: Language) async throws(Failure) -> [LibrarySource] {
        var sources: [LibrarySource] = []
        for item in try await libraries() where item.language == language.rawValue {
            if let live = item.liveVersion, let source = try await libraryVersion(id: live) { sources.append(source) }
        }
        return sources
    }

    /// The API's live libraries, then the folder's — for code compiled outside a version (the
    /// test endpoints, checks before publishing). Its lookups wait for the store, so use it only
    /// from threads outside Swift concurrency (the engine workers), never from async code.
    public func libraryProvider() -> any LibraryProvider {
        ChainedLibraries([LiveLibraries(catalog: self), LibraryDirectory(root: folder.librariesRoot, languages: folder.languages)])
    }

    struct LiveLibraries: LibraryProvider {
        let catalog: Catalog
        var searchedPlaces: [String] { ["the /v1 API's live libraries"] }
        func library(importName: String, language: Language) throws -> LibrarySource? {
            let catalog = self.catalog
            return try waitFor {
                guard let item = try await catalog.library(importName), item.language == language.rawValue, let live = item.liveVersion else {
                    return nil
                }
                return try await catalog.libraryVersion(id: live)
            }
        }
    }

    /// A cached version by id, or a cached live version (still valid: changes are pushed, or it
    /// was read within the last `liveTTL`), without touching the store; nil when the store must be asked.
    public func cachedResolve(_ idOrName: String) -> TransformationVersion? {
        lock.withLock {
            if let version = versionCache[idOrName] { return version }
            if let live = liveCache[idOrName], isFresh(live, now: ContinuousClock.now), let id = live.id { return versionCache[id] }
            return nil
        }
    }

    /// Whether a cached pointer may be used (under `lock`): always while changes are pushed
    /// (a change replaces it), else for `liveTTL` after it was read.
    private func isFresh(_ entry: CachedLive, now: ContinuousClock.Instant) -> Bool {
        feedState == .listening || now - entry.read < liveTTL
    }

    /// Records a live pointer (under `lock`): a change heard from the store (`since` nil) always,
    /// one made or read here only when no newer change was recorded after `since`. Keeps the
    /// transformation's cached pointer, the live set and its digest; true when the live set changed.
    func record(_ change: LiveChange, since: UInt64?) -> Bool {
        let key = LiveKey(kind: change.kind, name: change.name)
        if let since, let entry = liveSet[key], entry.sequence > since { return false }
        sequence += 1
        if change.kind == .transformation {
            if let since, let cached = liveCache[change.name], cached.sequence > since {} else {
                liveCache[change.name] = CachedLive(id: change.liveVersion, read: ContinuousClock.now, sequence: sequence)
            }
        }
        let changed = liveSet[key]?.id != change.liveVersion
        liveSet[key] = LiveEntry(id: change.liveVersion, sequence: sequence)
        if changed {
            lastChange = Date()
            liveSummary = LiveSummary(liveSet)
        }
        return changed
    }

    // MARK: - Documents

    struct LibraryDocument: Codable {
        var importName: String
        var language: String
        var fileName: String
        var code: String

        init(_ source: LibrarySource) {
            importName = source.importName
            language = source.language.rawValue
            fileName = source.fileName
            code = source.code
        }

        var source: LibrarySource? {
            Language(name: language).map { LibrarySource(importName: importName, language: $0, fileName: fileName, code: code) }
        }
    }

    struct VersionDocument: Codable {
        var name: String
        var language: String
        var fileName: String
        var code: String
        var limits: LimitsOverride
        var description: String?
        var origin: String
        var libraries: [LibraryDocument]
        /// `"0"` for legacy code; absent otherwise (documents written before it existed).
        var codeVersion: String?
    }

    static func encode(_ version: TransformationVersion) -> Data {
        let document = VersionDocument(
            name: version.name, language: version.source.language.rawValue, fileName: version.source.fileName, code: version.source.code,
            limits: version.limits, description: version.description, origin: version.origin, libraries: version.libraries.map(LibraryDocument.init),
            codeVersion: version.source.codeVersion == .legacy ? CodeVersion.legacy.rawValue : nil)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(document)) ?? Data()
    }

    /// Decodes a stored version and checks its content still hashes to its id.
    static func decode(_ data: Data, expectedID: String) throws(Failure) -> TransformationVersion {
        guard let document = try? JSONDecoder().decode(VersionDocument.self, from: data), let language = Language(name: document.language) else {
            throw .store("version \(expectedID) is unreadable in the store")
        }
        let libraries = document.libraries.compactMap(\.source)
        let version = TransformationVersion(
            source: TransformationSource(name: document.name, language: language, fileName: document.fileName, code: document.code,
                                         codeVersion: document.codeVersion.flatMap(CodeVersion.init(rawValue:)) ?? .current),
            libraries: libraries, limits: document.limits, description: document.description, origin: document.origin)
        guard version.id == expectedID else { throw .store("version \(expectedID) in the store does not match its content (it hashes to \(version.id))") }
        return version
    }

    static func isValidName(_ name: String) -> Bool {
        guard (1...100).contains(name.count), let first = name.unicodeScalars.first, first.properties.isAlphabetic || ("0"..."9").contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0) }
    }

    static func isValidLibraryName(_ name: String, language: Language) -> Bool {
        guard LibraryDirectory.isValidImportName(name), name.count <= 100 else { return false }
        if language == .python {
            guard let first = name.unicodeScalars.first, !("0"..."9").contains(first) else { return false }
            return name.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
        }
        return true
    }

    func storeCall<T>(_ body: () async throws -> T) async throws(Failure) -> T {
        do { return try await body() } catch let failure as Failure { throw failure } catch { throw .store("\(error)") }
    }
}
