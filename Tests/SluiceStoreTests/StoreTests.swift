import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceStore
import SluiceTestSupport
import Testing

@Suite struct SQLiteStoreTests {
    @Test func itemsVersionsAndLivePointersPersistAcrossReopening() async throws {
        let root = try TemporaryFolder.create([:])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/nested/registry.sqlite"
        do {
            let store = try SQLiteStore(path: path)
            let item = StoredItem(kind: .transformation, name: "a", language: "javascript", description: "d", createdAt: "2026-01-01T00:00:00.000Z")
            #expect(try await store.create(item))
            #expect(try await !store.create(item), "a second create changes nothing")
            #expect(try await store.addVersion(.transformation, name: "a", id: "sv1", document: Data("one".utf8)))
            #expect(try await store.addVersion(.transformation, name: "a", id: "sv2", document: Data("two".utf8)))
            #expect(try await !store.addVersion(.transformation, name: "a", id: "sv1", document: Data("changed".utf8)), "versions are immutable")
            try await store.setLive(.transformation, name: "a", id: "sv2")
            #expect(try await store.create(StoredItem(kind: .library, name: "a", language: "python", description: nil, createdAt: "t")),
                    "kinds have separate names")
        }
        let reopened = try SQLiteStore(path: path)
        #expect(try await reopened.item(.transformation, "a")?.liveVersion == "sv2")
        #expect(try await reopened.versions(.transformation, name: "a").map(\.id) == ["sv1", "sv2"])
        #expect(try await reopened.document(.transformation, id: "sv1").map { String(decoding: $0.document, as: UTF8.self) } == "one")
        #expect(try await reopened.document(.library, id: "sv1") == nil)
        #expect(try await reopened.items(.library).map(\.language) == ["python"])
    }

    @Test func anUnwritableLocationIsAClearError() {
        #expect(throws: StoreError.self) { try SQLiteStore(path: "/proc/sluice/registry.sqlite") }
    }

    /// Nothing is created until something is written: reads answer as an empty store does.
    @Test func theFileIsCreatedByTheFirstWrite() async throws {
        let root = try TemporaryFolder.create([:])
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/.sluice/registry.sqlite"
        let store = try SQLiteStore(path: path)
        #expect(!store.isCreated)
        #expect(try await store.items(.transformation).isEmpty)
        #expect(try await store.item(.transformation, "a") == nil)
        #expect(try await store.versions(.transformation, name: "a").isEmpty)
        #expect(try await store.document(.transformation, id: "sv1") == nil)
        #expect(!FileManager.default.fileExists(atPath: root + "/.sluice"), "reads create nothing")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root).isEmpty, "the probe file is gone")
        #expect(try await store.create(StoredItem(kind: .transformation, name: "a", language: "javascript", description: nil, createdAt: "t")))
        #expect(store.isCreated && FileManager.default.fileExists(atPath: path))
        #expect(try SQLiteStore(path: path).isCreated, "an existing file is opened at once")
    }
}

@Suite struct CatalogTests {
    func catalog(_ files: [String: String] = [:]) throws -> (Catalog, String) {
        let root = try TemporaryFolder.create(files.merging(["t/.keep": ""]) { $1 })
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        return (Catalog(store: try SQLiteStore(path: root + "/store.sqlite"), folder: registry, liveTTL: .zero), root)
    }

    /// The folder's versions at start-up wait in memory until something is published (or the
    /// folder changes): starting a service creates no store.
    @Test func folderVersionsAtStartUpDoNotCreateTheStore() async throws {
        let root = try TemporaryFolder.create(["t/a/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let store = try SQLiteStore(path: root + "/.sluice/registry.sqlite")
        let catalog = Catalog(store: store, folder: registry, liveTTL: .zero)
        let version = try #require(registry.version("a"))
        try await catalog.archive(registry.live, createStore: false)
        #expect(!store.isCreated)
        #expect(try await catalog.archivedVersions(of: "a").isEmpty)
        #expect(try await catalog.version(id: version.id)?.id == version.id)
        _ = try await catalog.createTransformation(name: "api", language: "javascript", description: nil)
        #expect(store.isCreated)
        #expect(try await store.versions(.transformation, name: "a").map(\.id) == [version.id], "written with the first publish")
        #expect(try await catalog.archivedVersions(of: "a").map(\.id) == [version.id])
        // A folder change while serving is history worth keeping: it creates the store.
        let other = try SQLiteStore(path: root + "/other/registry.sqlite")
        try await Catalog(store: other, folder: registry, liveTTL: .zero).archive(registry.live)
        #expect(other.isCreated)
    }

    @Test func sameCodeSameVersionNewCodeNewVersionAndPublishRollsBack() async throws {
        let (catalog, root) = try catalog()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try await catalog.createTransformation(name: "enrich", language: "javascript", description: nil)
        #expect(try await catalog.liveVersion(name: "enrich") == nil)
        let first = try await catalog.publishCode(name: "enrich", code: "export function transformEvent(e) { return e; }")
        #expect(first.created)
        #expect(try await catalog.publishCode(name: "enrich", code: "export function transformEvent(e) { return e; }") .version.id == first.version.id)
        #expect(try await !catalog.publishCode(name: "enrich", code: "export function transformEvent(e) { return e; }").created)
        let second = try await catalog.publishCode(name: "enrich", code: "export function transformEvent(e) { e.x = 1; return e; }")
        #expect(second.created && second.version.id != first.version.id)
        #expect(try await catalog.liveVersion(name: "enrich")?.id == second.version.id)
        try await catalog.publish(name: "enrich", versionID: first.version.id)
        #expect(try await catalog.liveVersion(name: "enrich")?.id == first.version.id)
        #expect(try await catalog.resolve(second.version.id)?.source.code.contains("e.x = 1") == true)
        #expect(try await catalog.versions(of: "enrich").map(\.id) == [first.version.id, second.version.id])
        await #expect(throws: Catalog.Failure.notFound("transformation enrich has no version svzzz")) { try await catalog.publish(name: "enrich", versionID: "svzzz") }
    }

    @Test func publishedVersionsPinTheLibraryCodeTheyLinked() async throws {
        let (catalog, root) = try catalog(["lib/shared.js": "export const s = 'folder';"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try await catalog.createLibrary(name: "tagger", language: "javascript", description: nil)
        let libraryV1 = try await catalog.publishLibraryCode(name: "tagger", code: "export const t = 1;")
        _ = try await catalog.createTransformation(name: "x", language: "javascript", description: nil)
        let code = "import { t } from \"tagger\";\nimport { s } from \"shared\";\nexport function transformEvent(e) { e.t = t; e.s = s; return e; }"
        let v1 = try await catalog.publishCode(name: "x", code: code).version
        #expect(v1.libraries.map(\.importName) == ["shared", "tagger"])
        _ = try await catalog.publishLibraryCode(name: "tagger", code: "export const t = 2;")
        #expect(try await catalog.version(id: v1.id)?.libraries.first { $0.importName == "tagger" }?.code == "export const t = 1;")
        let v2 = try await catalog.publishCode(name: "x", code: code)
        #expect(v2.created && v2.version.libraries.first { $0.importName == "tagger" }?.code == "export const t = 2;",
                "publishing the same code again links the new library version")
        try await catalog.publishLibrary(name: "tagger", versionID: libraryV1.id)
        #expect(try await catalog.publishCode(name: "x", code: code).version.id == v1.id, "rolling the library back gives the first version again")
    }

    @Test func namesAndLanguagesAreCheckedAndTheFolderOwnsItsNames() async throws {
        let (catalog, root) = try catalog(["t/folder-one/transform.js": "export function transformEvent(e) { return e; }", "lib/hashing.js": "export const h = 1;"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        await #expect(throws: Catalog.Failure.self) { try await catalog.createTransformation(name: "../etc", language: "javascript", description: nil) }
        await #expect(throws: Catalog.Failure.self) { try await catalog.createTransformation(name: "ok", language: "cobol", description: nil) }
        await #expect(throws: Catalog.Failure.conflict("folder-one is managed in the transformations folder")) {
            try await catalog.createTransformation(name: "folder-one", language: "javascript", description: nil)
        }
        await #expect(throws: Catalog.Failure.conflict("library hashing is managed in the libraries folder")) {
            try await catalog.createLibrary(name: "hashing", language: "javascript", description: nil)
        }
        await #expect(throws: Catalog.Failure.self) { try await catalog.createLibrary(name: "not-an-identifier", language: "python", description: nil) }
        _ = try await catalog.createLibrary(name: "py_tools", language: "pythonfaas", description: nil)
        #expect(try await catalog.library("py_tools")?.language == "python")
    }

    @Test func aTamperedStoredVersionIsRefused() async throws {
        let (catalog, root) = try catalog()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try await catalog.createTransformation(name: "x", language: "javascript", description: nil)
        let version = try await catalog.publishCode(name: "x", code: "export function transformEvent(e) { return e; }").version
        let document = String(decoding: Catalog.encode(version), as: UTF8.self).replacingOccurrences(of: "return e;", with: "return null;")
        await #expect(throws: Catalog.Failure.self) { try Catalog.decode(Data(document.utf8), expectedID: version.id) }
    }

    /// issue 12, row 7: a legacy version keeps its code version (and so its id) in the store.
    @Test func aLegacyVersionSurvivesTheStore() throws {
        let source = TransformationSource(name: "legacy", language: .javascript, fileName: "transform.js",
                                          code: "function transform(events) { return events; }", codeVersion: .legacy)
        let version = TransformationVersion(source: source, libraries: [], origin: "test")
        let stored = try Catalog.decode(Catalog.encode(version), expectedID: version.id)
        #expect(stored.source.codeVersion == .legacy)
        #expect(stored == version)
    }

    /// The catalog as the resolver's middle source: by id or by name, not found for anything
    /// else, unavailable when the store fails (never not found: the data plane must retry).
    @Test func asAVersionSourceItFindsIDsAndNamesAndIsUnavailableWhenTheStoreFails() async throws {
        let (catalog, root) = try catalog()
        defer { try? FileManager.default.removeItem(atPath: root) }
        _ = try await catalog.createTransformation(name: "x", language: "javascript", description: nil)
        let version = try await catalog.publishCode(name: "x", code: "export function transformEvent(e) { return e; }").version
        let fresh = Catalog(store: catalog.store, folder: catalog.folder, liveTTL: .zero)
        #expect(await onAThread { fresh.lookUp(version.id, libraryVersionIDs: []) } == .found(version))
        #expect(await onAThread { fresh.lookUp("x", libraryVersionIDs: ["ignored"]) } == .found(version))
        #expect(await onAThread { fresh.lookUp("y", libraryVersionIDs: []) } == .missing("y"))
        let broken = Catalog(store: FailingStore(), folder: catalog.folder)
        #expect(await onAThread { broken.lookUp("x", libraryVersionIDs: []) } == .unavailable("the store is down"))
    }
}

/// `body` on a plain thread, as the engine workers call the catalog (its lookups wait for the
/// store, which must not happen on the cooperative pool).
func onAThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { continuation in startThread { continuation.resume(returning: body()) } }
}

/// A store whose every call fails, as a database that went away does.
struct FailingStore: VersionStore {
    var location: String { "failing:" }
    func create(_ item: StoredItem) async throws -> Bool { throw StoreError("the store is down") }
    func item(_ kind: ItemKind, _ name: String) async throws -> StoredItem? { throw StoreError("the store is down") }
    func items(_ kind: ItemKind) async throws -> [StoredItem] { throw StoreError("the store is down") }
    func addVersion(_ kind: ItemKind, name: String, id: String, document: Data) async throws -> Bool { throw StoreError("the store is down") }
    func versions(_ kind: ItemKind, name: String) async throws -> [StoredVersionSummary] { throw StoreError("the store is down") }
    func document(_ kind: ItemKind, id: String) async throws -> (name: String, document: Data)? { throw StoreError("the store is down") }
    func setLive(_ kind: ItemKind, name: String, id: String) async throws { throw StoreError("the store is down") }
    func rollout(_ name: String) async throws -> StoredRollout? { throw StoreError("the store is down") }
    func rollouts() async throws -> [String: StoredRollout] { throw StoreError("the store is down") }
    func replaceRollout(_ name: String, document: Data, expectedRevision: Int, auditEntry: Data) async throws -> Bool { throw StoreError("the store is down") }
    func audit(_ name: String) async throws -> [Data] { throw StoreError("the store is down") }
    func putRolloutCounts(_ rolloutID: String, replica: String, document: Data) async throws { throw StoreError("the store is down") }
    func rolloutCounts(_ rolloutID: String) async throws -> [String: Data] { throw StoreError("the store is down") }
}
