import SluiceCore

/// The one place where a way an event (or a batch) can end becomes an HTTP status.
extension FailureKind {
    /// The `statusCode` of a `/customTransform` error item (rudder-transformer's: every failure
    /// of user code is 400; a missing version 404; a retryable loss 500 or 809, with the whole
    /// response at ``rudderRetryStatus``).
    public var rudderItemStatus: Int {
        switch self {
        case .notFound: 404
        case .unavailable: 809
        case .workerLost: 500
        default: 400
        }
    }

    /// The status of a `/customTransform` response with a retryable item: rudder-server retries
    /// the request (CONTRACT.md §2.1).
    public static let rudderRetryStatus = 809

    /// The status of a whole answer that failed with this kind (the test routes, `/v1`): 404 for
    /// a missing version, 503 when nothing could run it right now (retry later), 500 for a lost
    /// worker, else 400 — the code, not the service, is at fault.
    public var responseStatus: Int {
        switch self {
        case .notFound: 404
        case .unavailable: 503
        case .workerLost, .engine: 500
        default: 400
        }
    }
}
