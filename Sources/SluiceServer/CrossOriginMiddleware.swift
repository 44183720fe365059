import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceStudio

/// Refuses state-changing requests (anything but GET, HEAD and OPTIONS) that a browser makes on
/// behalf of a page from another origin: a page the operator visits must not be able to publish,
/// roll back, start a rollout or run code (`/transformation/test`) on a service it can reach —
/// loopback above all. A form or `fetch(…, {mode: "no-cors"})` can send a POST without a
/// preflight; the browser then says where it comes from (`Origin`, `Sec-Fetch-Site`), and this
/// answers 403. rudder-server, curl and other non-browser clients send neither and are never
/// refused. Studio's own routes have their stricter guard (a token besides).
struct CrossOriginMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method != .get, request.method != .head, request.method != .options, !request.uri.path.hasPrefix("/studio/"),
              let problem = StudioGuard.crossOriginRefusal(origin: request.headers[.origin], fetchSite: request.headers[HTTPField.Name("Sec-Fetch-Site")!],
                                                           host: StudioRoutes.host(request)) else {
            return try await next(request, context)
        }
        logger.warning("cross-origin request refused", metadata: [
            "http.path": "\(request.uri.path)", "http.origin": "\(request.headers[.origin] ?? "")",
        ])
        return SluiceService.json(403, Array(("{\"error\":" + JSONString.encode(problem) + "}").utf8))
    }
}
