/// How a canary rollout divides a batch between the live version and a candidate: each event is
/// assigned by a stable hash of its sticky key (`userId`, else `anonymousId`, else `messageId`)
/// and the rollout's id, so one user's events go the same way in every batch, on every replica
/// and after a restart; the two groups run as batches of their own, and their results are put
/// back in input order. No I/O: the rollout's state and its store live above.
public enum RolloutSplit {
    /// The buckets an event can fall in: a share of events is a number of basis points (10 % =
    /// 1000), and an event runs the candidate when its bucket is below the rollout's share.
    public static let basisPoints = 10_000

    private static let messageKey = Array("message".utf8)
    private static let stickyKeys = [Array("userId".utf8), Array("anonymousId".utf8), Array("messageId".utf8)]

    /// The key an item is assigned by: its event's `userId`, else `anonymousId`, else `messageId`
    /// (a string's decoded text, a number's JSON text; an empty string or null counts as absent).
    /// The event is the item's `message` object when it has one, else the item itself. Nil when
    /// the event has none of them (such an event runs the live version). `item` must be valid
    /// JSON (as every batch's items are by the time they run).
    public static func stickyKey(of item: JSONText) -> [UInt8]? {
        let whole = 0..<item.count
        guard let top = RawJSON.values(of: [messageKey], in: whole, of: item) else { return nil }
        var event = whole
        if let message = top[0], message.lowerBound < item.count, item[message.lowerBound] == UInt8(ascii: "{") { event = message }
        guard let values = RawJSON.values(of: stickyKeys, in: event, of: item) else { return nil }
        for case let range? in values {
            if item[range.lowerBound] == UInt8(ascii: "\"") {
                guard let text = RawJSON.string(item, range), !text.isEmpty else { continue }
                return Array(text.utf8)
            }
            let text = item[range]
            if text.elementsEqual("null".utf8) || text.first == UInt8(ascii: "{") || text.first == UInt8(ascii: "[") { continue }
            return Array(text)
        }
        return nil
    }

    /// The bucket (0..<``basisPoints``) of `key` in the rollout `salt`: 64-bit FNV-1a over the
    /// salt, a zero byte and the key, then MurmurHash3's 64-bit finaliser so that keys differing
    /// only in their last characters spread over every bucket. Stable across processes and
    /// builds (unlike Swift's `Hasher`, which is seeded per process).
    public static func bucket(key: some Sequence<UInt8>, salt: String) -> Int {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        for byte in salt.utf8 { mix(byte) }
        mix(0)
        for byte in key { mix(byte) }
        hash ^= hash >> 33
        hash &*= 0xff51_afd7_ed55_8ccd
        hash ^= hash >> 33
        hash &*= 0xc4ce_b9fe_1a85_ec53
        hash ^= hash >> 33
        return Int(hash % UInt64(basisPoints))
    }

    /// Whether `item` runs the candidate of rollout `salt` at `candidateBasisPoints` (0…10000).
    public static func runsCandidate(_ item: JSONText, candidateBasisPoints: Int, salt: String) -> Bool {
        guard candidateBasisPoints > 0, let key = stickyKey(of: item) else { return false }
        return bucket(key: key, salt: salt) < candidateBasisPoints
    }

    /// The indices of `batch`'s items that run the live version and those that run the candidate,
    /// each in input order.
    public static func assign(_ batch: Batch, candidateBasisPoints: Int, salt: String) -> (live: [Int], candidate: [Int]) {
        var live: [Int] = []
        var candidate: [Int] = []
        for (index, item) in batch.items.enumerated() {
            if runsCandidate(item, candidateBasisPoints: candidateBasisPoints, salt: salt) {
                candidate.append(index)
            } else {
                live.append(index)
            }
        }
        return (live, candidate)
    }

    /// The batch of `batch`'s items at `indices` (in that order): their metadata texts and own
    /// credentials come along, re-indexed; everything else (the request's credentials, fetch,
    /// determinism, mocks) is the batch's.
    public static func part(of batch: Batch, indices: [Int]) -> Batch {
        var part = batch
        part.items = indices.map { batch.items[$0] }
        part.metadataTexts = batch.metadataTexts.map { texts in indices.map { texts[$0] } }
        part.eventCredentials = [:]
        for (position, index) in indices.enumerated() {
            if let credentials = batch.eventCredentials[index] { part.eventCredentials[position] = credentials }
        }
        return part
    }

    /// One result for the whole batch from its parts' (each with the indices of the original
    /// batch its items were): every result's ``EventResult/inputIndex`` mapped back, results in
    /// input order (a split event's outputs, and a `transformBatch` group's outputs for one
    /// input, keep their order), then the results that belong to no input (in the order of
    /// `parts`); logs in the order of `parts`, with their input indices mapped back too.
    public static func merge(_ parts: [(indices: [Int], result: BatchResult)], count: Int) -> BatchResult {
        var byInput = [[EventResult]](repeating: [], count: count)
        var unmatched: [EventResult] = []
        var logs: [LogLine] = []
        var unmocked: [String] = []
        var workerEndings = 0
        for part in parts {
            for var eventResult in part.result.results {
                if let local = eventResult.inputIndex, local < part.indices.count {
                    let index = part.indices[local]
                    eventResult.inputIndex = index
                    byInput[index].append(eventResult)
                } else {
                    eventResult.inputIndex = nil
                    unmatched.append(eventResult)
                }
            }
            for var line in part.result.logs {
                line.inputIndex = line.inputIndex.flatMap { $0 < part.indices.count ? part.indices[$0] : nil }
                logs.append(line)
            }
            unmocked += part.result.unmockedRequests
            workerEndings += part.result.workerEndings
        }
        var merged = BatchResult(results: byInput.flatMap { $0 } + unmatched, logs: logs, unmockedRequests: unmocked)
        merged.workerEndings = workerEndings
        return merged
    }
}
