import SluiceCore
import SluiceRegistry
import SluiceSandbox

extension ConfigBackend {
    /// The config backend reached through the service's own HTTP client (``Fetcher``, over
    /// SwiftNIO): http or https with the system's trust store and full certificate verification,
    /// redirects followed, answers up to 64 MiB. The operator names the backend
    /// (`CONFIG_BACKEND_URL`), so the egress guard that binds user code's fetches lets this client
    /// reach any address — a control plane on a private network or on loopback included.
    public static func fetcherTransport() -> Transport {
        var limits = FetchLimits()
        limits.timeout = .seconds(3600)  // each request's own timeout is what bounds it
        limits.maximumResponseBytes = 64 << 20
        let everywhere = ["0.0.0.0/0", "::/0"].compactMap(CIDR.init)
        let fetcher = Fetcher(policy: EgressPolicy(allow: everywhere), limits: limits)
        return { request, remaining in fetcher.fetch(request, remainingNanoseconds: remaining) }
    }
}
