import Foundation
import Logging

/// The service's open HTTP connections under their cap. A connection past the cap is turned
/// away at once (``ConnectionGuard`` answers 503 and closes it), so a flood of connections cannot
/// take descriptors and memory from the ones being served. Connections open and close on every
/// event loop, so the count is behind a lock.
public final class OpenConnections: @unchecked Sendable {
    /// Connections at most (``ServerConfiguration/maximumConnections``).
    public let limit: Int
    private let metrics: ServiceMetrics
    private let logger: Logger
    private let lock = NSLock()
    private var open = 0
    /// Rejections not yet logged: a flood is logged once per ``rejectionLogInterval``, not once
    /// per connection (the metric counts each).
    private var unloggedRejections = 0
    private var lastRejectionLog: ContinuousClock.Instant?
    static let rejectionLogInterval: Duration = .seconds(10)

    init(limit: Int, metrics: ServiceMetrics, logger: Logger) {
        self.limit = limit
        self.metrics = metrics
        self.logger = logger
    }

    /// How many connections are open now.
    public var count: Int { lock.withLock { open } }

    /// Counts a new connection in, or refuses it when `limit` are open (counted in the metrics,
    /// logged at most once per ``rejectionLogInterval``).
    func admit() -> Bool {
        let now = ContinuousClock.now
        let (admitted, rejectionsToLog): (Bool, Int?) = lock.withLock {
            guard open >= limit else {
                open += 1
                metrics.openConnections(open)
                return (true, nil)
            }
            unloggedRejections += 1
            if let last = lastRejectionLog, now - last < Self.rejectionLogInterval { return (false, nil) }
            lastRejectionLog = now
            defer { unloggedRejections = 0 }
            return (false, unloggedRejections)
        }
        if !admitted { metrics.connectionRejected() }
        if let rejectionsToLog {
            logger.warning("connection limit reached: new connections are refused", metadata: [
                "connections.limit": .stringConvertible(limit), "connections.rejected": .stringConvertible(rejectionsToLog),
            ])
        }
        return admitted
    }

    /// Counts an admitted connection out.
    func release() {
        lock.withLock {
            open -= 1
            metrics.openConnections(open)
        }
    }
}
