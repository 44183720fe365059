import Foundation
import HTTPTypes
import Hummingbird
import SluiceStudio

/// Studio's routes (docs/studio.md): the page at `/`, its files under `/studio/assets/`, and its
/// API under `/studio/api/`. Thin: what is listed, run and compared is ``StudioWorkspace`` and
/// ``StudioRunPlan``'s (SluiceStudio); here are the guard, the headers and the engine thread.
struct StudioRoutes: Sendable {
    let workspace: StudioWorkspace
    /// Publishing and rolling back go through the native API, as `/v1` clients do.
    let api: NativeAPI
    let guardian: StudioGuard
    let pool: EnginePool
    let maximumBodyBytes: Int
    /// The recordings a slice may be run on (``StudioRecordings``; none configured: an empty list).
    var recordings = StudioRecordings(folders: [])

    func add(to router: Router<BasicRequestContext>) {
        let workspace = self.workspace
        let guardian = self.guardian
        let pool = self.pool
        let native = self.api
        let cap = maximumBodyBytes
        /// A read: only the host check.
        @Sendable func read(_ request: Request, _ answer: () async throws -> StudioReply) async rethrows -> Response {
            if let problem = guardian.hostRefusal(host: Self.host(request)) { return Self.response(.error(403, problem)) }
            return Self.response(try await answer())
        }
        router.get("/") { request, _ in
            await read(request) { StudioReply(status: 200, body: StudioAssets.page.bytes, contentType: StudioAssets.page.contentType) }
        }
        router.get("studio/assets/:file") { request, context in
            let name = try context.parameters.require("file")
            return await read(request) {
                guard let asset = StudioAssets.asset(named: name) else { return .error(404, "no Studio file \(name)") }
                return StudioReply(status: 200, body: asset.bytes, contentType: asset.contentType)
            }
        }
        let api = router.group("studio/api")
        api.get("session") { request, _ in await read(request) { workspace.session(token: guardian.token) } }
        api.get("catalog") { request, _ in await read(request) { await workspace.listing() } }
        api.get("transformations/:name") { request, context in
            let name = try context.parameters.require("name")
            return await read(request) { await workspace.transformation(name) }
        }
        api.get("libraries/:name") { request, context in
            let name = try context.parameters.require("name")
            let language = request.uri.queryParameters.get("language")
            return await read(request) { await workspace.library(name, language: language) }
        }
        /// A guarded run: the request parsed, planned by `plan` (which reads the folders and the
        /// store), then `work` on an engine thread through the service's executor — the same
        /// worker processes, confinement, limits and egress guard as every other run.
        @Sendable func running(_ request: Request, plan: @escaping @Sendable (StudioRunRequest) async -> Result<StudioRunPlan, StudioProblem>,
                               work: @escaping @Sendable (StudioRunPlan, EnginePool.Worker) -> StudioReply) async throws -> Response {
            if let problem = Self.refusal(request, guardian) { return Self.response(.error(403, problem)) }
            guard let body = try await SluiceService.collectBody(request, upTo: cap) else {
                return Self.response(.error(413, "request body larger than \(cap) bytes"))
            }
            let planned: StudioRunPlan
            switch StudioRunRequest.parse(body) {
            case .failure(let problem): return Self.response(problem.reply)
            case .success(let parsed):
                switch await plan(parsed) {
                case .failure(let problem): return Self.response(problem.reply)
                case .success(let found): planned = found
                }
            }
            let reply = await pool.performValue { worker in work(planned, worker) }
            return Self.response(reply ?? .error(503, "all workers busy; retry later"))
        }
        api.post("run") { request, _ in
            try await running(request, plan: { await workspace.plan($0) }) { plan, worker in
                plan.execute(on: worker.customTransform.executor, fetch: worker.tooling.fetch)
            }
        }
        // "Accept as expected": a folder case's expected.ndjson from the (saved) code's run.
        api.post("accept") { request, _ in
            try await running(request, plan: { await workspace.planAccept($0) }) { plan, worker in
                plan.acceptExpected(on: worker.customTransform.executor)
            }
        }
        // Publish the editor's code as a new version (creating an API transformation on first
        // publish), and roll back: the native API's own operations.
        api.post("publish") { request, _ in
            try await Self.change(request, guardian, cap: cap) { fields in
                guard let name = fields["name"], let code = fields["code"] else { return .error(400, "name and code are required") }
                let encoded = { (object: [String: Any]) in Array((try? JSONSerialization.data(withJSONObject: object)) ?? Data()) }
                if await workspace.isAPITransformation(name) {
                    return Self.reply(await native.putCode(name: name, body: encoded(["code": code]), contentType: "application/json"))
                }
                var create: [String: Any] = ["name": name, "language": fields["language"] ?? "javascript", "code": code]
                if let description = fields["description"] { create["description"] = description }
                let created = await native.createTransformation(body: encoded(create))
                // A folder transformation's name is taken: the folder is where it changes.
                if created.status == 409, workspace.isFolderTransformation(name) {
                    return .error(409, "\(name) is managed in the transformations folder; change it there")
                }
                return Self.reply(created)
            }
        }
        api.post("rollback") { request, _ in
            try await Self.change(request, guardian, cap: cap) { fields in
                guard let name = fields["name"], let version = fields["version"] else { return .error(400, "name and version are required") }
                return Self.reply(await native.publish(name: name, id: version))
            }
        }
        addRecordings(to: router)
    }

    /// A guarded state change: 403 unless it comes from Studio's page, 413 past the body cap,
    /// 400 unless the body is a JSON object; else `work`'s answer (given the body's string members).
    @Sendable static func change(_ request: Request, _ guardian: StudioGuard, cap: Int,
                                 _ work: @Sendable ([String: String]) async -> StudioReply) async throws -> Response {
        if let problem = refusal(request, guardian) { return response(.error(403, problem)) }
        guard let body = try await SluiceService.collectBody(request, upTo: cap) else {
            return response(.error(413, "request body larger than \(cap) bytes"))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return response(.error(400, "the body must be a JSON object"))
        }
        return response(await work(object.compactMapValues { $0 as? String }))
    }

    static func reply(_ wire: WireResponse) -> StudioReply { StudioReply(status: wire.status, body: wire.body) }

    /// Why a state-changing request is refused (403), or nil.
    static func refusal(_ request: Request, _ guardian: StudioGuard) -> String? {
        guardian.refusal(origin: request.headers[HTTPField.Name("Origin")!], fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!],
                         host: host(request), token: request.headers[HTTPField.Name(StudioGuard.tokenHeader)!])
    }

    static func host(_ request: Request) -> String? {
        request.head.authority ?? request.headers[HTTPField.Name("Host")!]
    }

    static func response(_ reply: StudioReply) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = reply.contentType
        for header in StudioAssets.securityHeaders { headers[HTTPField.Name(header.name)!] = header.value }
        return Response(status: .init(code: reply.status), headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: reply.body)))
    }
}
