import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStore

/// `X-Response-Time: <milliseconds>` on every response, and the request counted and timed per
/// endpoint (paths that are not routes count as `other`, so requests cannot mint labels).
struct ResponseTimeMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics
    /// `X-Instance-ID`, as rudder-transformer's `INSTANCE_ID/WORKER_ID`: this instance (the
    /// `INSTANCE_ID` variable, else the host name) and this process.
    let instanceID: String
    static var endpoints: Set<String> {
        ["/customTransform", "/transformation/test", "/transformation/testRun", "/transformationLibrary/test", "/extractLibs", "/health",
         "/metrics", "/features", "/version"]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        // The route the router matched (its pattern: `/v1/transformations/{name}`, not the name
        // itself), known once `next` has run; paths that are no route count as `other`, so
        // requests cannot mint labels.
        func endpoint() -> String {
            // (Hummingbird names an unmatched path "NotFound".)
            if let matched = context.endpointPath, matched != "NotFound" { return matched }
            return Self.endpoints.contains(request.uri.path) ? request.uri.path : "other"
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            metrics.request(endpoint: endpoint(), status: Int(error.status.code), duration: ContinuousClock.now - start)
            throw error
        }
        let elapsed = ContinuousClock.now - start
        metrics.request(endpoint: endpoint(), status: Int(response.status.code), duration: elapsed)
        // "1.25ms": rudder-server parses it as a float after trimming "ms".
        response.headers[HTTPField.Name("X-Response-Time")!] = String(format: "%.2fms", elapsed.millisecondsValue)
        response.headers[HTTPField.Name("X-Instance-ID")!] = instanceID
        return response
    }
}
