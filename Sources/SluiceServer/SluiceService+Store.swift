import Foundation
import Logging
import SluiceCore
import SluiceRuntime
import SluiceStore

/// The API store as the service follows it: what `/health` says about it, and the log lines and
/// metrics of its feed (see ``Catalog/startFollowing(observer:)``).
extension SluiceService {
    /// Logs the feed's state changes (and changes found by polling: ones no notification
    /// announced) and counts them in the metrics.
    static func storeObserver(logger: Logger, metrics: ServiceMetrics, location: String) -> @Sendable (Catalog.FollowEvent) -> Void {
        { event in
            switch event {
            case .state(let state, let reason):
                metrics.storeState(listening: state == .listening)
                var metadata: Logger.Metadata = ["store.location": "\(location)", "store.state": "\(state.rawValue)"]
                if let reason { metadata["error"] = "\(reason)" }
                switch state {
                case .listening: logger.info("API store changes are pushed: other replicas' publishes are served at once", metadata: metadata)
                case .polling where reason == nil: logger.info("API store: connecting the change listener; polling meanwhile", metadata: metadata)
                case .polling: logger.warning("API store change listener lost; polling while it reconnects", metadata: metadata)
                case .unreachable: logger.error("API store unreachable", metadata: metadata)
                case .notCreated, .local: break
                }
            case .notification(let change):
                metrics.storeNotification(kind: change.kind.rawValue)
                logger.debug("API store change heard", metadata: [
                    "store.change.kind": "\(change.kind.rawValue)", "store.change.name": "\(change.name)", "store.change.version": "\(change.liveVersion)",
                ])
            case .polled(let changes):
                metrics.storePolledChanges(changes)
                logger.info("API store changes found by reading the live set", metadata: ["store.changes": .stringConvertible(changes)])
            }
        }
    }

    /// `"store":{"kind","location","state","lastChange","liveDigest","live":{"transformations","libraries"},"notifications"},`
    static func storeJSON(_ status: Catalog.StoreStatus) -> String {
        var body: [UInt8] = Array(#""store":{"kind":"#.utf8)
        JSONString.append(status.kind, to: &body)
        body += #","location":"#.utf8
        JSONString.append(status.location, to: &body)
        body += #","state":"\#(status.state.rawValue)","lastChange":"#.utf8
        body += (status.lastChange.map { date in
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            return #""\#(formatter.string(from: date))""#
        } ?? "null").utf8
        body += #","liveDigest":"\#(status.liveDigest)","live":{"transformations":\#(status.liveTransformations),"libraries":\#(status.liveLibraries)},"notifications":\#(status.notifications)},"#.utf8
        return String(decoding: body, as: UTF8.self)
    }
}
