import HTTPTypes
import Hummingbird

/// The canary-rollout routes under `/v1/transformations/{name}` over ``RolloutAPI``. Changes are
/// recorded as made by the `X-Sluice-Actor` header's value, else the client's address (set by
/// the connection guard as `X-Sluice-Peer`).
struct RolloutRoutes: Sendable {
    let api: RolloutAPI
    let maximumBodyBytes: Int

    static let actorHeader = HTTPField.Name("X-Sluice-Actor")!

    func add(to router: Router<BasicRequestContext>) {
        let api = self.api
        let cap = maximumBodyBytes
        @Sendable func actor(_ request: Request) -> String {
            RolloutAPI.actor(header: request.headers[Self.actorHeader], peer: request.headers[ConnectionGuard.peerHeader])
        }
        let v1 = router.group("v1")
        v1.post("transformations/:name/rollout") { request, context in
            guard let bytes = try await SluiceService.collectBody(request, upTo: cap) else {
                return SluiceService.response(.error(413, "request body larger than \(cap) bytes"))
            }
            return SluiceService.response(await api.start(name: try context.parameters.require("name"), body: bytes, actor: actor(request)))
        }
        v1.get("transformations/:name/rollout") { _, context in
            SluiceService.response(await api.get(name: try context.parameters.require("name")))
        }
        v1.delete("transformations/:name/rollout") { request, context in
            SluiceService.response(await api.abort(name: try context.parameters.require("name"), actor: actor(request)))
        }
        v1.post("transformations/:name/rollout/promote") { request, context in
            SluiceService.response(await api.promote(name: try context.parameters.require("name"), actor: actor(request)))
        }
        v1.get("transformations/:name/audit") { _, context in
            SluiceService.response(await api.audit(name: try context.parameters.require("name")))
        }
    }
}
