import Hummingbird

/// `/v1/transformations/{name}/shadow` over ``ShadowAPI``.
struct ShadowRoutes: Sendable {
    let api: ShadowAPI
    let maximumBodyBytes: Int

    func add(to router: Router<BasicRequestContext>) {
        let api = self.api
        let cap = maximumBodyBytes
        let path: RouterPath = "v1/transformations/:name/shadow"
        router.post(path) { request, context -> Response in
            guard let body = try await SluiceService.collectBody(request, upTo: cap) else {
                return SluiceService.response(.error(413, "request body larger than \(cap) bytes"))
            }
            return SluiceService.response(await api.start(name: try context.parameters.require("name"), body: body))
        }
        router.get(path) { _, context -> Response in SluiceService.response(api.report(name: try context.parameters.require("name"))) }
        router.delete(path) { _, context -> Response in SluiceService.response(api.stop(name: try context.parameters.require("name"))) }
    }
}
