import HTTPTypes
import Hummingbird
import SluiceStudio

/// Studio's routes for what runs live (docs/studio.md): the traffic charts' samples, and shadow
/// runs and canary rollouts started, read and ended from the page. Thin, and no second copy of
/// the fleet's logic: the same ``ShadowAPI`` and ``RolloutAPI`` calls as the `/v1` routes, behind
/// Studio's guard (host check on reads; same origin and the session token on changes) instead of
/// none, and with Studio's headers (``StudioRoutes/response(_:)``).
struct StudioLiveRoutes: Sendable {
    let traffic: TrafficHistory
    let shadows: ShadowAPI
    let rollouts: RolloutAPI
    let guardian: StudioGuard
    let maximumBodyBytes: Int

    func add(to router: Router<BasicRequestContext>) {
        let traffic = self.traffic, shadows = self.shadows, rollouts = self.rollouts, guardian = self.guardian
        let cap = maximumBodyBytes
        /// A read: only the host check.
        @Sendable func read(_ request: Request, _ answer: () async -> StudioReply) async -> Response {
            if let problem = guardian.hostRefusal(host: StudioRoutes.host(request)) { return StudioRoutes.response(.error(403, problem)) }
            return StudioRoutes.response(await answer())
        }
        /// A change: 403 unless it comes from Studio's page, 413 past the body cap.
        @Sendable func change(_ request: Request, _ work: ([UInt8]) async -> WireResponse) async throws -> Response {
            if let problem = StudioRoutes.refusal(request, guardian) { return StudioRoutes.response(.error(403, problem)) }
            guard let body = try await SluiceService.collectBody(request, upTo: cap) else {
                return StudioRoutes.response(.error(413, "request body larger than \(cap) bytes"))
            }
            return StudioRoutes.response(StudioRoutes.reply(await work(body)))
        }
        /// Rollout changes are recorded (audit) as made by Studio, from the client's address.
        @Sendable func actor(_ request: Request) -> String {
            "studio" + (request.headers[ConnectionGuard.peerHeader].map { " (\($0))" } ?? "")
        }
        let api = router.group("studio/api")
        api.get("traffic") { request, _ in await read(request) { .json(200, traffic.jsonObject()) } }

        // What the page polls: both at once, none as null rather than 404 (a browser logs every
        // 404 as an error in its console, and "none" is no error here).
        api.get("transformations/:name/fleet") { request, context in
            let name = try context.parameters.require("name")
            return await read(request) {
                let shadow = shadows.report(name: name), rollout = await rollouts.get(name: name)
                if rollout.status != 200 && rollout.status != 404 { return StudioRoutes.reply(rollout) }
                var body = Array(#"{"shadow":"#.utf8)
                body += shadow.status == 200 ? shadow.body : Array("null".utf8)
                body += #","rollout":"#.utf8
                body += rollout.status == 200 ? rollout.body : Array("null".utf8)
                body.append(UInt8(ascii: "}"))
                return StudioReply(status: 200, body: body)
            }
        }
        api.get("transformations/:name/shadow") { request, context in
            let name = try context.parameters.require("name")
            return await read(request) { StudioRoutes.reply(shadows.report(name: name)) }
        }
        api.post("transformations/:name/shadow") { request, context in
            let name = try context.parameters.require("name")
            return try await change(request) { await shadows.start(name: name, body: $0) }
        }
        api.delete("transformations/:name/shadow") { request, context in
            let name = try context.parameters.require("name")
            return try await change(request) { _ in shadows.stop(name: name) }
        }

        api.get("transformations/:name/rollout") { request, context in
            let name = try context.parameters.require("name")
            return await read(request) { StudioRoutes.reply(await rollouts.get(name: name)) }
        }
        api.post("transformations/:name/rollout") { request, context in
            let name = try context.parameters.require("name")
            return try await change(request) { await rollouts.start(name: name, body: $0, actor: actor(request)) }
        }
        api.delete("transformations/:name/rollout") { request, context in
            let name = try context.parameters.require("name")
            return try await change(request) { _ in await rollouts.abort(name: name, actor: actor(request)) }
        }
        api.post("transformations/:name/rollout/promote") { request, context in
            let name = try context.parameters.require("name")
            return try await change(request) { _ in await rollouts.promote(name: name, actor: actor(request)) }
        }
    }
}
