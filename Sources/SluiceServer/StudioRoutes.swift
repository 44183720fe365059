import Foundation
import HTTPTypes
import Hummingbird
import SluiceStudio

/// Studio's routes (docs/studio.md): the page at `/`, its files under `/studio/assets/`, and its
/// API under `/studio/api/`. Thin: what is listed, run and compared is ``StudioWorkspace`` and
/// ``StudioRunPlan``'s (SluiceStudio); here are the guard, the headers and the engine thread.
struct StudioRoutes: Sendable {
    let workspace: StudioWorkspace
    let guardian: StudioGuard
    let pool: EnginePool
    let maximumBodyBytes: Int

    func add(to router: Router<BasicRequestContext>) {
        let workspace = self.workspace
        let guardian = self.guardian
        let pool = self.pool
        let cap = maximumBodyBytes
        /// A read: only the host check.
        @Sendable func read(_ request: Request, _ answer: () async throws -> StudioReply) async rethrows -> Response {
            if let problem = guardian.hostRefusal(host: Self.host(request)) { return Self.response(.error(403, problem)) }
            return Self.response(try await answer())
        }
        router.get("/") { request, _ in
            try await read(request) { StudioReply(status: 200, body: StudioAssets.page.bytes, contentType: StudioAssets.page.contentType) }
        }
        router.get("studio/assets/:file") { request, context in
            let name = try context.parameters.require("file")
            return try await read(request) {
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
        api.post("run") { request, _ in
            if let problem = Self.refusal(request, guardian) { return Self.response(.error(403, problem)) }
            guard let body = try await SluiceService.collectBody(request, upTo: cap) else {
                return Self.response(.error(413, "request body larger than \(cap) bytes"))
            }
            let plan: StudioRunPlan
            switch StudioRunRequest.parse(body) {
            case .failure(let problem): return Self.response(problem.reply)
            case .success(let parsed):
                switch await workspace.plan(parsed) {
                case .failure(let problem): return Self.response(problem.reply)
                case .success(let planned): plan = planned
                }
            }
            // On an engine thread, through the service's executor: the same worker processes,
            // confinement, limits and egress guard as every other run.
            let reply = await pool.performValue { worker in plan.execute(on: worker.customTransform.executor, fetch: worker.tooling.fetch) }
            return Self.response(reply ?? .error(503, "all workers busy; retry later"))
        }
    }

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
