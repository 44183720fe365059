import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceStore
import SluiceTesting

/// What Studio shows and runs: the transformations and libraries of the folders (``Registry``)
/// and of the API's store (``Catalog``), each with its language, versions, imports and cases,
/// and the plan of a run. Credentials are listed by name only: no value a case or the store holds
/// is ever in an answer.
public struct StudioWorkspace: Sendable {
    public let registry: Registry
    public let catalog: Catalog
    /// The service's limits: with a transformation's own, the most a Studio run may ask for.
    public let limits: Limits
    public let languages: LanguageTable

    public init(registry: Registry, catalog: Catalog, limits: Limits, languages: LanguageTable = Engines.languages) {
        self.registry = registry
        self.catalog = catalog
        self.limits = limits
        self.languages = languages
    }

    // MARK: - Session

    /// `GET /studio/api/session`: the CSRF token the page sends back, and what the page needs to
    /// know about this service.
    public func session(token: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> StudioReply {
        StudioReply.json(200, [
            "token": token, "tokenHeader": StudioGuard.tokenHeader, "version": SluiceVersion.current,
            "limits": StudioRunPlan.limitsObject(limits), "languages": languages.languages.map(\.rawValue),
            "transformationsFolder": registry.transformationsRoot, "librariesFolder": registry.librariesRoot,
            "ci": ContinuousIntegration.isSet(in: environment),
        ])
    }

    // MARK: - Browse

    /// `GET /studio/api/catalog`: every transformation and library, folder and API, by name.
    public func listing() async -> StudioReply {
        do {
            var transformations: [[String: Any]] = []
            for version in registry.live {
                transformations.append([
                    "name": version.name, "language": version.source.language.rawValue, "source": "folder", "origin": version.origin,
                    "description": version.description ?? NSNull(), "liveVersion": version.id,
                    "imports": imports(of: version.source), "cases": cases(of: version).map(Self.caseName),
                ])
            }
            for item in try await catalog.transformations() where registry.version(item.name)?.name != item.name {
                let live = try await catalog.liveVersion(name: item.name)
                transformations.append([
                    "name": item.name, "language": item.language, "source": "api", "origin": "api",
                    "description": item.description ?? NSNull(), "liveVersion": item.liveVersion ?? NSNull(),
                    "imports": live.map { imports(of: $0.source) } ?? [], "cases": [String](),
                ])
            }
            transformations.sort { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }
            let users = try await libraryUsers()
            var libraries: [[String: Any]] = folderLibraries().map { library in
                ["name": library.name, "language": library.language.rawValue, "source": "folder", "origin": library.path,
                 "importedBy": users[LibraryKey(name: library.name, language: library.language.rawValue)] ?? []] as [String: Any]
            }
            for item in try await catalog.libraries() {
                libraries.append(["name": item.name, "language": item.language, "source": "api", "origin": "api",
                                  "liveVersion": item.liveVersion ?? NSNull(),
                                  "importedBy": users[LibraryKey(name: item.name, language: item.language)] ?? []])
            }
            return StudioReply.json(200, ["transformations": transformations, "libraries": libraries])
        } catch {
            return Self.storeFailure(error)
        }
    }

    /// `GET /studio/api/transformations/{name}`: its code, language, versions (content id, when,
    /// from where), imports, cases and the names of the credentials its cases set.
    public func transformation(_ name: String) async -> StudioReply {
        do {
            if let version = registry.version(name), version.name == name {
                var versions: [[String: Any]] = try await catalog.archivedVersions(of: name).map {
                    ["id": $0.id, "createdAt": $0.createdAt, "origin": "folder (archived in the store)", "live": $0.id == version.id] as [String: Any]
                }
                if !versions.contains(where: { $0["id"] as? String == version.id }) {
                    versions.append(["id": version.id, "createdAt": NSNull(), "origin": version.origin, "live": true])
                }
                let cases = cases(of: version)
                var credentials: [[String: Any]] = []
                for snapshot in cases {
                    let names = ((try? SnapshotRunner.settings(of: snapshot))?.credentials ?? [:]).keys.sorted()
                    for credential in names { credentials.append(["name": credential, "case": Self.caseName(snapshot)]) }
                }
                return StudioReply.json(200, [
                    "name": name, "language": version.source.language.rawValue, "source": "folder", "origin": version.origin,
                    "fileName": version.source.fileName, "code": version.source.code, "description": version.description ?? NSNull(),
                    "liveVersion": version.id, "versions": versions, "imports": imports(of: version.source),
                    "linked": version.libraries.map { ["name": $0.importName, "language": $0.language.rawValue] },
                    "limits": StudioRunPlan.limitsObject(version.limits.applied(to: limits)),
                    "cases": cases.map { snapshot in
                        ["name": Self.caseName(snapshot), "hasExpected": FileManager.default.fileExists(atPath: snapshot.expectedPath),
                         "input": String(decoding: (try? Data(contentsOf: URL(fileURLWithPath: snapshot.inputPath))) ?? Data(), as: UTF8.self)] as [String: Any]
                    },
                    "credentials": credentials, "editable": "folder",
                ])
            }
            guard let item = try await catalog.transformation(name) else { return .error(404, "transformation \(name) not found") }
            let live = try await catalog.liveVersion(name: name)
            let versions = try await catalog.versions(of: name).map {
                ["id": $0.id, "createdAt": $0.createdAt, "origin": "api", "live": $0.id == item.liveVersion] as [String: Any]
            }
            let language = Language(name: item.language) ?? .javascript
            return StudioReply.json(200, [
                "name": name, "language": item.language, "source": "api", "origin": "api",
                "fileName": live?.source.fileName ?? "transform.\(language.fileExtension)", "code": live?.source.code ?? "",
                "description": item.description ?? NSNull(), "liveVersion": item.liveVersion ?? NSNull(), "versions": versions,
                "imports": live.map { imports(of: $0.source) } ?? [],
                "linked": (live?.libraries ?? []).map { ["name": $0.importName, "language": $0.language.rawValue] },
                "limits": StudioRunPlan.limitsObject((live?.limits ?? LimitsOverride()).applied(to: limits)),
                "cases": [Any](), "credentials": [Any](), "editable": "api",
            ])
        } catch {
            return Self.storeFailure(error)
        }
    }

    /// `GET /studio/api/libraries/{name}?language=…`: its code, versions and importers.
    public func library(_ name: String, language requested: String?) async -> StudioReply {
        do {
            let users = try await libraryUsers()
            if let folder = folderLibraries().first(where: { $0.name == name && (requested == nil || $0.language == Language(name: requested!)) }) {
                let code = (try? String(contentsOfFile: folder.path, encoding: .utf8)) ?? ""
                return StudioReply.json(200, [
                    "name": name, "language": folder.language.rawValue, "source": "folder", "origin": folder.path, "code": code,
                    "versions": [["id": NSNull(), "createdAt": NSNull(), "origin": folder.path, "live": true] as [String: Any]],
                    "importedBy": users[LibraryKey(name: name, language: folder.language.rawValue)] ?? [],
                ])
            }
            guard let item = try await catalog.library(name), requested == nil || Language(name: item.language) == Language(name: requested!) else {
                return .error(404, "library \(name) not found")
            }
            var code: String?
            if let live = item.liveVersion { code = try await catalog.libraryVersion(id: live)?.code }
            return StudioReply.json(200, [
                "name": name, "language": item.language, "source": "api", "origin": "api", "code": code ?? "",
                "versions": try await catalog.libraryVersions(of: name).map {
                    ["id": $0.id, "createdAt": $0.createdAt, "origin": "api", "live": $0.id == item.liveVersion] as [String: Any]
                },
                "importedBy": users[LibraryKey(name: name, language: item.language)] ?? [],
            ])
        } catch {
            return Self.storeFailure(error)
        }
    }

    // MARK: - Run

    /// What `request` runs: the transformation's file name, limits and libraries (a folder
    /// transformation's library folder, as `sluice test` links it; otherwise the API's live
    /// libraries, then the folder's), its cases, and the limits asked for — refused when above
    /// what the service would run the transformation with.
    public func plan(_ request: StudioRunRequest) async -> Result<StudioRunPlan, StudioProblem> {
        var fileName = "transform.\(request.language.fileExtension)"
        var own = LimitsOverride()
        var libraries: any LibraryProvider = catalog.libraryProvider()
        var cases: [SnapshotCase] = []
        let name = request.name ?? "studio"
        var known = false
        if let requested = request.name, let version = registry.version(requested), version.name == requested {
            known = true
            if version.source.language == request.language { fileName = version.source.fileName }
            own = version.limits
            if FileManager.default.fileExists(atPath: version.origin) {
                let directory = Self.isDirectory(version.origin) ? version.origin : (version.origin as NSString).deletingLastPathComponent
                libraries = LibraryDirectory(root: LibraryDirectory.nearestRoot(to: directory), languages: languages)
            }
            cases = self.cases(of: version)
        } else if let requested = request.name {
            do {
                if try await catalog.transformation(requested) != nil {
                    known = true
                    if let live = try await catalog.liveVersion(name: requested) {
                        own = live.limits
                        if live.source.language == request.language { fileName = live.source.fileName }
                    }
                }
            } catch {
                return .failure(StudioProblem(503, "the store did not answer: \(error)"))
            }
        }
        if case .cases(let names) = request.input {
            guard known else { return .failure(StudioProblem(404, "transformation \(name) not found")) }
            if let names {
                for wanted in names where !cases.contains(where: { Self.caseName($0) == wanted }) {
                    return .failure(StudioProblem(404, "transformation \(name) has no case \(wanted)"))
                }
                cases = cases.filter { names.contains(Self.caseName($0)) }
            }
            guard !cases.isEmpty else {
                return .failure(StudioProblem(400, "transformation \(name) has no snapshot cases: paste events to run it"))
            }
        }
        let maxima = own.applied(to: limits)
        if let time = request.limits.timeMilliseconds, time > maxima.timeMilliseconds {
            return .failure(StudioProblem(400, "limits.timeMilliseconds \(time) is above this service's maximum for \(name), \(maxima.timeMilliseconds)"))
        }
        if let memory = request.limits.memoryMegabytes, memory > maxima.memoryMegabytes {
            return .failure(StudioProblem(400, "limits.memoryMegabytes \(memory) is above this service's maximum for \(name), \(maxima.memoryMegabytes)"))
        }
        let source = TransformationSource(name: name, language: request.language, fileName: fileName, code: request.code)
        var events: String?
        if case .events(let text) = request.input { events = text }
        return .success(StudioRunPlan(source: source, libraries: libraries, maxima: maxima, requested: request.limits, cases: cases, events: events))
    }

    /// What "accept as expected" runs: `request`'s one case of a folder transformation, whose
    /// code must be the folder's (Studio never writes transformation files, so an expectation is
    /// only ever recorded for code that is saved). Refused whenever `CI` is set, as `sluice test`
    /// records nothing in CI.
    public func planAccept(_ request: StudioRunRequest, environment: [String: String] = ProcessInfo.processInfo.environment)
        async -> Result<StudioRunPlan, StudioProblem> {
        if ContinuousIntegration.isSet(in: environment) {
            return .failure(StudioProblem(409, "accept as expected is off when CI is set: expectations are reviewed and committed, never written by CI"))
        }
        guard let name = request.name, let version = registry.version(name), version.name == name else {
            return .failure(StudioProblem(409, "accept as expected is for folder transformations (\(request.name ?? "this code") is not one); publish API versions instead"))
        }
        guard case .cases(let names) = request.input, let names, names.count == 1 else {
            return .failure(StudioProblem(400, "cases must name exactly one case to accept"))
        }
        guard request.code == version.source.code else {
            return .failure(StudioProblem(409, "the editor's code differs from \(version.origin)/\(version.source.fileName): save it in the folder first (Studio never writes transformation files)"))
        }
        return await plan(request)
    }

    /// Whether `name` is a transformation of the folder.
    public func isFolderTransformation(_ name: String) -> Bool { registry.version(name)?.name == name }

    /// Whether `name` is a transformation of the API's store (and not the folder's).
    public func isAPITransformation(_ name: String) async -> Bool {
        guard !isFolderTransformation(name) else { return false }
        return ((try? await catalog.transformation(name)) ?? nil) != nil
    }

    // MARK: - Helpers

    struct LibraryKey: Hashable {
        var name: String
        var language: String
    }

    /// Who imports each library: the folder's transformations and the API's live versions, by
    /// what they link (transitively).
    func libraryUsers() async throws -> [LibraryKey: [String]] {
        var users: [LibraryKey: [String]] = [:]
        for version in registry.live {
            for library in version.libraries { users[LibraryKey(name: library.importName, language: library.language.rawValue), default: []].append(version.name) }
        }
        for item in try await catalog.transformations() where registry.version(item.name)?.name != item.name {
            guard let live = try await catalog.liveVersion(name: item.name) else { continue }
            for library in live.libraries { users[LibraryKey(name: library.importName, language: library.language.rawValue), default: []].append(item.name) }
        }
        return users.mapValues { Array(Set($0)).sorted() }
    }

    /// The libraries folder's files, one per import name and language.
    func folderLibraries() -> [(name: String, language: Language, path: String)] {
        let root = registry.librariesRoot
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).sorted()
        return names.compactMap { file in
            guard let language = Language(fileName: file), !file.hasPrefix(".") else { return nil }
            let name = String(file.dropLast(language.fileExtension.count + 1))
            guard LibraryDirectory.isValidImportName(name) else { return nil }
            return (name, language, root + "/" + file)
        }
    }

    /// The import names in `source`, in order of first appearance.
    func imports(of source: TransformationSource) -> [String] {
        languages[source.language]?.libraryNames(importedBy: source.code) ?? []
    }

    func cases(of version: TransformationVersion) -> [SnapshotCase] {
        guard Self.isDirectory(version.origin) else { return [] }
        return (try? CaseDiscovery.cases(in: [version.origin])) ?? []
    }

    static func caseName(_ snapshot: SnapshotCase) -> String { (snapshot.directory as NSString).lastPathComponent }

    static func isDirectory(_ path: String) -> Bool {
        var directory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &directory) && directory.boolValue
    }

    static func storeFailure(_ error: any Error) -> StudioReply {
        switch error as? Catalog.Failure {
        case .notFound(let message): .error(404, message)
        case .conflict(let message): .error(409, message)
        case .invalid(let message): .error(400, message)
        case .store(let message): .error(503, "store: \(message)")
        case nil: .error(500, "\(error)")
        }
    }
}

