import Foundation
import HTTPTypes
import Hummingbird
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStore

/// Refuses requests that would run user code (POSTs, but not `/extractLibs`) while the memory
/// fence is up: 503, `X-Rudder-Should-Retry: true`, `X-Rudder-Error-Reason: memory_fencing`, as
/// rudder-transformer. Reads (`/health`, `/metrics`, `/features`, `/v1` listings) always pass.
struct MemoryFenceMiddleware<Context: RequestContext>: RouterMiddleware {
    let fence: MemoryFence
    let metrics: ServiceMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .post, request.uri.path != "/extractLibs", fence.isFencing else {
            return try await next(request, context)
        }
        let endpoint = ResponseTimeMiddleware<Context>.endpoints.contains(request.uri.path) ? request.uri.path : "other"
        metrics.fenced(endpoint: endpoint)
        logger.warning("memory fence: request refused", metadata: [
            "http.path": "\(request.uri.path)", "memory.resident_bytes": .stringConvertible(fence.residentBytes),
            "memory.threshold_bytes": .stringConvertible(fence.configuration.thresholdBytes),
        ])
        var headers = HTTPFields()
        headers[.contentType] = "text/plain; charset=utf-8"
        headers[HTTPField.Name("X-Rudder-Should-Retry")!] = "true"
        headers[HTTPField.Name("X-Rudder-Error-Reason")!] = "memory_fencing"
        return Response(status: .serviceUnavailable, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: Array(MemoryFence.message.utf8))))
    }
}
