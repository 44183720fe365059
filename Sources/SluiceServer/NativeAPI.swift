import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceStore

/// Sluice's own API under `/v1` (docs/openapi.yaml), independent of the HTTP library:
/// transformations and libraries, their versions and live pointers. Transformations from the
/// folder are listed and readable here but changed only in the folder; the API's own live in the
/// catalog's store. Running by name streams, so it lives with the routes (`NativeRoutes.swift`).
public struct NativeAPI: Sendable {
    public let catalog: Catalog
    public let registry: Registry
    public let pool: EnginePool

    public init(catalog: Catalog, registry: Registry, pool: EnginePool) {
        self.catalog = catalog
        self.registry = registry
        self.pool = pool
    }

    // MARK: - Transformations

    public func listTransformations() async -> WireResponse {
        var list: [[String: Any]] = registry.live.map { version in
            ["name": version.name, "language": version.source.language.rawValue, "description": version.description ?? NSNull(),
             "source": "folder", "liveVersion": version.id]
        }
        do {
            for item in try await catalog.transformations() {
                list.append(["name": item.name, "language": item.language, "description": item.description ?? NSNull(),
                             "source": "api", "liveVersion": item.liveVersion ?? NSNull(), "createdAt": item.createdAt])
            }
        } catch {
            return failure(error)
        }
        list.sort { ($0["name"] as? String ?? "") < ($1["name"] as? String ?? "") }
        return Self.json(200, ["transformations": list])
    }

    public func getTransformation(_ name: String) async -> WireResponse {
        if let version = registry.version(name), version.name == name {
            return Self.json(200, Self.describe(version, extra: ["source": "folder", "liveVersion": version.id]))
        }
        do {
            guard let item = try await catalog.transformation(name) else { return .error(404, "transformation \(name) not found") }
            var body: [String: Any] = ["name": item.name, "language": item.language, "description": item.description ?? NSNull(),
                                       "source": "api", "liveVersion": item.liveVersion ?? NSNull(), "createdAt": item.createdAt]
            if let live = try await catalog.liveVersion(name: name) {
                body["code"] = live.source.code
                body["libraries"] = live.libraries.map(\.importName)
                body["limits"] = Self.limits(live.limits)
            }
            return Self.json(200, body)
        } catch {
            return failure(error)
        }
    }

    /// `POST /v1/transformations` `{name, language, description?, code?, limits?}`.
    public func createTransformation(body: [UInt8]) async -> WireResponse {
        let request: [String: Any]
        do { request = try ToolingHandler.object(body) } catch { return .error(400, "\(error)") }
        guard let name = request["name"] as? String else { return .error(400, "name is required") }
        guard let language = request["language"] as? String else { return .error(400, "language is required (javascript, python or pythonfaas)") }
        let code = request["code"] as? String
        var limits = LimitsOverride()
        if let problem = Self.parseLimits(request["limits"], into: &limits) { return .error(400, problem) }
        if let code, let problem = await compileProblem(code: code, language: Language(name: language)) {
            return .error(400, problem)
        }
        do {
            let item = try await catalog.createTransformation(name: name, language: language, description: request["description"] as? String)
            var response: [String: Any] = ["name": item.name, "language": item.language, "description": item.description ?? NSNull(),
                                           "source": "api", "createdAt": item.createdAt, "liveVersion": NSNull()]
            if let code {
                let published = try await catalog.publishCode(name: name, code: code, limits: limits)
                response["liveVersion"] = published.version.id
            }
            return Self.json(201, response, headers: [("Location", "/v1/transformations/\(item.name)")])
        } catch {
            return failure(error)
        }
    }

    /// `PUT /v1/transformations/{name}/code`: JSON `{code, limits?}`, or the code itself as text.
    /// Compiles it first; a new version → 201, the same code as an existing version → 200.
    public func putCode(name: String, body: [UInt8], contentType: String?) async -> WireResponse {
        if registry.version(name)?.name == name { return .error(409, "\(name) is managed in the transformations folder; change it there") }
        guard let (code, limits) = Self.codeAndLimits(body, contentType: contentType) else {
            return .error(400, "send the code as text/plain, or as JSON {\"code\": \"…\", \"limits\": {…}}")
        }
        if let limits = limits.problem { return .error(400, limits) }
        do {
            guard let item = try await catalog.transformation(name) else { return .error(404, "transformation \(name) not found") }
            if let problem = await compileProblem(code: code, language: Language(name: item.language)) { return .error(400, problem) }
            let published = try await catalog.publishCode(name: name, code: code, limits: limits.value)
            return Self.json(published.created ? 201 : 200, [
                "name": name, "version": published.version.id, "created": published.created, "live": true,
                "libraries": published.version.libraries.map(\.importName),
            ])
        } catch {
            return failure(error)
        }
    }

    public func listVersions(name: String) async -> WireResponse {
        if let version = registry.version(name), version.name == name {
            // Every content the folder has held while a service with this store ran, oldest first.
            var versions = ((try? await catalog.archivedVersions(of: name)) ?? []).map { ["id": $0.id, "createdAt": $0.createdAt, "live": $0.id == version.id] as [String: Any] }
            if !versions.contains(where: { $0["id"] as? String == version.id }) { versions.append(["id": version.id, "live": true]) }
            return Self.json(200, ["name": name, "source": "folder", "versions": versions])
        }
        do {
            let live = try await catalog.transformation(name)?.liveVersion
            let versions = try await catalog.versions(of: name)
            return Self.json(200, ["name": name, "source": "api", "versions": versions.map {
                ["id": $0.id, "createdAt": $0.createdAt, "live": $0.id == live]
            }])
        } catch {
            return failure(error)
        }
    }

    public func getVersion(name: String, id: String) async -> WireResponse {
        if let version = registry.version(id), version.name == name {
            return Self.json(200, Self.describe(version, extra: [:]))
        }
        if let archived = try? await catalog.version(id: id), archived.name == name, registry.version(name)?.name == name {
            return Self.json(200, Self.describe(archived, extra: [:]))
        }
        do {
            guard let version = try await catalog.version(id: id), version.name == name else {
                return .error(404, "transformation \(name) has no version \(id)")
            }
            return Self.json(200, Self.describe(version, extra: [:]))
        } catch {
            return failure(error)
        }
    }

    /// `POST /v1/transformations/{name}/versions/{id}/publish`: pin (or roll back to) a version.
    public func publish(name: String, id: String) async -> WireResponse {
        if registry.version(name)?.name == name { return .error(409, "\(name) is managed in the transformations folder; change it there") }
        do {
            try await catalog.publish(name: name, versionID: id)
            return Self.json(200, ["name": name, "liveVersion": id])
        } catch {
            return failure(error)
        }
    }

    // MARK: - Libraries

    public func listLibraries() async -> WireResponse {
        do {
            return Self.json(200, ["libraries": try await catalog.libraries().map { item in
                ["name": item.name, "language": item.language, "description": item.description ?? NSNull(),
                 "liveVersion": item.liveVersion ?? NSNull(), "createdAt": item.createdAt] as [String: Any]
            }])
        } catch {
            return failure(error)
        }
    }

    public func getLibrary(_ name: String) async -> WireResponse {
        do {
            guard let item = try await catalog.library(name) else { return .error(404, "library \(name) not found") }
            var body: [String: Any] = ["name": item.name, "language": item.language, "description": item.description ?? NSNull(),
                                       "liveVersion": item.liveVersion ?? NSNull(), "createdAt": item.createdAt]
            if let live = item.liveVersion, let source = try await catalog.libraryVersion(id: live) { body["code"] = source.code }
            return Self.json(200, body)
        } catch {
            return failure(error)
        }
    }

    public func createLibrary(body: [UInt8]) async -> WireResponse {
        let request: [String: Any]
        do { request = try ToolingHandler.object(body) } catch { return .error(400, "\(error)") }
        guard let name = request["name"] as? String else { return .error(400, "name is required") }
        guard let language = request["language"] as? String else { return .error(400, "language is required (javascript, python or pythonfaas)") }
        let code = request["code"] as? String
        if let code, let problem = await libraryProblem(code: code, language: language) { return .error(400, problem) }
        do {
            let item = try await catalog.createLibrary(name: name, language: language, description: request["description"] as? String)
            var response: [String: Any] = ["name": item.name, "language": item.language, "description": item.description ?? NSNull(),
                                           "createdAt": item.createdAt, "liveVersion": NSNull()]
            if let code { response["liveVersion"] = try await catalog.publishLibraryCode(name: name, code: code).id }
            return Self.json(201, response, headers: [("Location", "/v1/libraries/\(item.name)")])
        } catch {
            return failure(error)
        }
    }

    public func putLibraryCode(name: String, body: [UInt8], contentType: String?) async -> WireResponse {
        guard let (code, _) = Self.codeAndLimits(body, contentType: contentType) else {
            return .error(400, "send the code as text/plain, or as JSON {\"code\": \"…\"}")
        }
        do {
            guard let item = try await catalog.library(name) else { return .error(404, "library \(name) not found") }
            if let problem = await libraryProblem(code: code, language: item.language) { return .error(400, problem) }
            let published = try await catalog.publishLibraryCode(name: name, code: code)
            return Self.json(published.created ? 201 : 200, ["name": name, "version": published.id, "created": published.created, "live": true])
        } catch {
            return failure(error)
        }
    }

    public func listLibraryVersions(name: String) async -> WireResponse {
        do {
            let live = try await catalog.library(name)?.liveVersion
            return Self.json(200, ["name": name, "versions": try await catalog.libraryVersions(of: name).map {
                ["id": $0.id, "createdAt": $0.createdAt, "live": $0.id == live]
            }])
        } catch {
            return failure(error)
        }
    }

    public func publishLibrary(name: String, id: String) async -> WireResponse {
        do {
            try await catalog.publishLibrary(name: name, versionID: id)
            return Self.json(200, ["name": name, "liveVersion": id])
        } catch {
            return failure(error)
        }
    }

    // MARK: - Running by name

    /// The version `POST /v1/transformations/{name}/run` runs: `versionID` when given (it must be
    /// one of the name's versions), else the live one.
    public func versionToRun(name: String, versionID: String?) async -> RunTarget {
        if let folder = registry.version(name), folder.name == name {
            if let versionID, versionID != folder.id {
                var older = registry.version(versionID)
                if older == nil { older = try? await catalog.version(id: versionID) }
                guard let older, older.name == name else {
                    return .refused(.error(404, "transformation \(name) has no version \(versionID)"))
                }
                return .run(older)
            }
            return .run(folder)
        }
        do {
            if let versionID {
                guard let version = try await catalog.version(id: versionID), version.name == name else {
                    return .refused(.error(404, "transformation \(name) has no version \(versionID)"))
                }
                return .run(version)
            }
            guard try await catalog.transformation(name) != nil else { return .refused(.error(404, "transformation \(name) not found")) }
            guard let live = try await catalog.liveVersion(name: name) else {
                return .refused(.error(409, "transformation \(name) has no code yet: PUT /v1/transformations/\(name)/code"))
            }
            return .run(live)
        } catch {
            return .refused(failure(error))
        }
    }

    public enum RunTarget: Sendable {
        case run(TransformationVersion)
        case refused(WireResponse)
    }

    // MARK: - Helpers

    /// Why code cannot be published (checked on a worker), or nil.
    private func compileProblem(code: String, language: Language?) async -> String? {
        guard let language else { return "unknown language (use javascript, python or pythonfaas)" }
        return await pool.performValue { $0.tooling.compileProblem(code: code, language: language) } ?? "all workers busy; retry later"
    }

    private func libraryProblem(code: String, language: String) async -> String? {
        guard let language = Language(name: language) else { return "unknown language (use javascript, python or pythonfaas)" }
        return await pool.performValue { $0.tooling.libraryProblem(code: code, language: language) } ?? "all workers busy; retry later"
    }

    private func failure(_ error: any Error) -> WireResponse { Self.failure(error) }

    /// A catalog failure as the API answers it: 404, 409, 400, or 500 for the store.
    static func failure(_ error: any Error) -> WireResponse {
        switch error as? Catalog.Failure {
        case .notFound(let message): return .error(404, message)
        case .conflict(let message): return .error(409, message)
        case .invalid(let message): return .error(400, message)
        case .store(let message): return .error(500, "store: \(message)")
        case nil: return .error(500, "\(error)")
        }
    }

    static func describe(_ version: TransformationVersion, extra: [String: Any]) -> [String: Any] {
        var body: [String: Any] = [
            "name": version.name, "id": version.id, "language": version.source.language.rawValue, "code": version.source.code,
            "description": version.description ?? NSNull(), "limits": limits(version.limits),
            "libraries": version.libraries.map { ["importName": $0.importName, "language": $0.language.rawValue, "code": $0.code] },
        ]
        for (key, value) in extra { body[key] = value }
        return body
    }

    static func limits(_ limits: LimitsOverride) -> [String: Any] {
        var body: [String: Any] = [:]
        if let time = limits.timeMilliseconds { body["timeMilliseconds"] = time }
        if let memory = limits.memoryMegabytes { body["memoryMegabytes"] = memory }
        return body
    }

    static func parseLimits(_ value: Any?, into limits: inout LimitsOverride) -> String? {
        guard let value, !(value is NSNull) else { return nil }
        guard let object = value as? [String: Any] else { return "limits must be an object {timeMilliseconds, memoryMegabytes}" }
        for key in object.keys where key != "timeMilliseconds" && key != "memoryMegabytes" {
            return "limits.\(key) is not a limit (use timeMilliseconds and memoryMegabytes)"
        }
        if let time = object["timeMilliseconds"] {
            guard let number = time as? Int, number >= 1 else { return "limits.timeMilliseconds must be a whole number ≥ 1" }
            limits.timeMilliseconds = number
        }
        if let memory = object["memoryMegabytes"] {
            guard let number = memory as? Int, number >= 1 else { return "limits.memoryMegabytes must be a whole number ≥ 1" }
            limits.memoryMegabytes = number
        }
        return nil
    }

    /// The code from JSON `{code, limits?}` (`application/json`, or any body that is such an
    /// object unless sent as `text/*` / `application/javascript`), else the body as the code.
    static func codeAndLimits(_ body: [UInt8], contentType: String?) -> (String, (value: LimitsOverride, problem: String?))? {
        let type = contentType?.lowercased() ?? ""
        let declaredText = type.hasPrefix("text/") || type.hasPrefix("application/javascript") || type.hasPrefix("application/x-python")
        if !declaredText, let object = try? ToolingHandler.object(body), let code = object["code"] as? String {
            var limits = LimitsOverride()
            let problem = parseLimits(object["limits"], into: &limits)
            return (code, (limits, problem))
        }
        if type.hasPrefix("application/json") { return nil }
        guard let code = String(validating: body, as: UTF8.self) else { return nil }
        return (code, (LimitsOverride(), nil))
    }

    static func json(_ status: Int, _ object: [String: Any], headers: [(name: String, value: String)] = []) -> WireResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return WireResponse(status: status, body: Array(data), headers: headers)
    }
}
