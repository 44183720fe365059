import Foundation
import SluiceRegistry

/// Keeping up with the other replicas: the live version set as the store holds it, refreshed by
/// the store's pushed changes (``LiveChangeFeed``) or, while none are heard, by polling.
extension Catalog {
    struct LiveKey: Hashable, Comparable {
        var kind: ItemKind
        var name: String

        static func < (left: LiveKey, right: LiveKey) -> Bool {
            (left.kind.rawValue, left.name) < (right.kind.rawValue, right.name)
        }
    }

    struct LiveEntry {
        var id: String
        var sequence: UInt64
    }

    /// What `/health` says about the store.
    public struct StoreStatus: Sendable, Equatable {
        public enum State: String, Sendable {
            /// Changes are pushed (PostgreSQL `LISTEN`): cached live pointers are trusted until replaced.
            case listening
            /// The listening connection is down (or not up yet): live pointers are re-read after
            /// `liveTTL` and the live set is polled as often, while it reconnects with back-off.
            case polling
            /// The store did not answer the last poll.
            case unreachable
            /// A SQLite store not created yet (nothing was published).
            case notCreated = "not created"
            /// A SQLite store: one replica, which makes every change itself.
            case local
        }

        /// `postgres` or `sqlite`.
        public var kind: String
        /// Where the store is (``VersionStore/location``: never a password).
        public var location: String
        public var state: State
        /// When a change to the live set was last made here, heard or found by polling.
        public var lastChange: Date?
        /// The first 16 hex digits of the SHA-256 of every live pointer (`kind`, `name`, `id`,
        /// tab-separated lines sorted by kind and name): equal on replicas that agree.
        public var liveDigest: String
        public var liveTransformations: Int
        public var liveLibraries: Int
        /// Changes heard from the store since start.
        public var notifications: Int
    }

    /// A step of following the store, for logs and metrics.
    public enum FollowEvent: Sendable {
        /// The feed's state changed; `reason` says why a listening connection was lost.
        case state(StoreStatus.State, reason: String?)
        /// A change heard from the store.
        case notification(LiveChange)
        /// Changes found by reading the whole live set (at start, on reconnecting, or polling):
        /// changes made while nobody listened.
        case polled(changes: Int)
    }

    public var storeStatus: StoreStatus {
        let kind = store is PostgresStore ? "postgres" : "sqlite"
        let created = store.isCreated
        return lock.withLock {
            StoreStatus(kind: kind, location: store.location,
                        state: feedState ?? (created ? .local : .notCreated), lastChange: lastChange, liveDigest: liveSummary.digest,
                        liveTransformations: liveSummary.transformations, liveLibraries: liveSummary.libraries, notifications: notificationsHeard)
        }
    }

    /// Reads the live set, then keeps it current: a store that pushes changes is listened to on a
    /// connection of its own — lost, it is reconnected with back-off (100 ms doubling to 5 s) while
    /// the live set is polled every `liveTTL` (at most a second) and cached pointers expire as
    /// without a feed. A store without a feed (SQLite: one replica) is read once. Stop with
    /// ``stopFollowing()``.
    public func startFollowing(observer: @escaping @Sendable (FollowEvent) -> Void = { _ in }) async {
        guard let feed = store as? any LiveChangeFeed else {
            if let changes = try? await resync(), changes > 0 { observer(.polled(changes: changes)) }
            return
        }
        setFeedState(.polling, observer: observer, reason: nil)
        let pollInterval = min(liveTTL, .seconds(1))
        let task = Task { [self] in
            var delay = Duration.milliseconds(100)
            while !Task.isCancelled {
                var reason: String?
                do {
                    try await feed.followLiveChanges(listening: { [self] in
                        // Changes made while nobody listened.
                        await poll(observer: observer, failing: .polling)
                        setFeedState(.listening, observer: observer, reason: nil)
                    }, change: { [self] change in
                        lock.withLock {
                            notificationsHeard += 1
                            _ = record(change, since: nil)
                        }
                        observer(.notification(change))
                        // The new version's code, read before the first request asks for it.
                        if change.kind == .transformation { _ = try? await version(id: change.liveVersion) }
                    })
                } catch is CancellationError {
                    return
                } catch {
                    reason = "\(error)"
                }
                if Task.isCancelled { return }
                if lock.withLock({ feedState == .listening }) { delay = .milliseconds(100) }
                setFeedState(.polling, observer: observer, reason: reason ?? "the listening connection ended")
                let reconnectAt = ContinuousClock.now + delay
                repeat {
                    await poll(observer: observer, failing: .unreachable)
                    let left = reconnectAt - ContinuousClock.now
                    if left > .zero { try? await Task.sleep(for: min(left, pollInterval)) }
                } while ContinuousClock.now < reconnectAt && !Task.isCancelled
                delay = min(delay * 2, .seconds(5))
            }
        }
        lock.withLock { following = task }
    }

    /// The live version of an item as this catalog last read, heard or made it.
    func heardLiveVersion(_ kind: ItemKind, _ name: String) -> String? {
        lock.withLock { liveSet[LiveKey(kind: kind, name: name)]?.id }
    }

    /// Stops following the store (closing the listening connection).
    public func stopFollowing() {
        lock.withLock { following }?.cancel()
    }

    private func setFeedState(_ state: StoreStatus.State, observer: (FollowEvent) -> Void, reason: String?) {
        let changed = lock.withLock {
            defer { feedState = state }
            return feedState != state
        }
        if changed { observer(.state(state, reason: reason)) }
    }

    /// A resync whose failure makes the state `failing` (when polling) and whose changes are reported.
    private func poll(observer: (FollowEvent) -> Void, failing: StoreStatus.State) async {
        do {
            let changes = try await resync()
            if changes > 0 { observer(.polled(changes: changes)) }
            if lock.withLock({ feedState == .unreachable }) { setFeedState(.polling, observer: observer, reason: nil) }
        } catch {
            if lock.withLock({ feedState != .listening }) { setFeedState(failing, observer: observer, reason: "\(error)") }
        }
    }

    /// Reads every live pointer from the store and records what changed (except what was heard
    /// or made here meanwhile, which is newer); returns the number of changes.
    func resync() async throws -> Int {
        let start = lock.withLock { sequence }
        let items = try await store.items(.transformation) + store.items(.library)
        return lock.withLock {
            var changes = 0
            var stored = Set<LiveKey>()
            for item in items {
                guard let live = item.liveVersion else { continue }
                stored.insert(LiveKey(kind: item.kind, name: item.name))
                if record(LiveChange(kind: item.kind, name: item.name, liveVersion: live), since: start) { changes += 1 }
            }
            for (key, entry) in liveSet where !stored.contains(key) && entry.sequence <= start {
                liveSet[key] = nil
                changes += 1
            }
            if changes > 0 {
                lastChange = Date()
                liveSummary = LiveSummary(liveSet)
            }
            return changes
        }
    }

    /// The live set's digest and size, computed when it changes (so `/health` stays cheap).
    struct LiveSummary {
        var digest: String
        var transformations: Int
        var libraries: Int

        /// See ``StoreStatus/liveDigest``.
        init(_ set: [LiveKey: LiveEntry]) {
            var text = ""
            for key in set.keys.sorted() {
                text += "\(key.kind.rawValue)\t\(key.name)\t\(set[key]!.id)\n"
            }
            digest = String(sha256Hex(text.utf8).prefix(16))
            transformations = set.keys.filter { $0.kind == .transformation }.count
            libraries = set.count - transformations
        }
    }
}
