/// How much a ``CompiledCache`` keeps.
public struct CacheLimits: Sendable {
    /// Versions kept (default 256).
    public var count = 256
    /// Source bytes kept (default 64 MiB).
    public var bytes = 64 << 20
    public init() {}
}

/// Compiled versions (or anything keyed by a content id), least recently used evicted first past a count or a size.
/// The size is the source bytes of the version and its libraries — a proxy for what a compiled
/// module holds in the engine (JavaScriptCore and CPython keep the source and its bytecode).
/// Each engine context must compile for itself, so every worker has its own cache and compiles a
/// version at most once while it stays cached; a worker handles one request at a time, so no
/// version compiles twice concurrently within a worker.
public final class CompiledCache<Value>: @unchecked Sendable {
    // @unchecked: used only on its worker's thread.
    private struct Entry {
        var value: Value
        var bytes: Int
        var lastUse: UInt64
    }

    public let limits: CacheLimits
    private var entries: [String: Entry] = [:]
    private var clock: UInt64 = 0
    private var totalBytes = 0
    public private(set) var hits = 0
    public private(set) var misses = 0
    public private(set) var evictions = 0

    public init(limits: CacheLimits) { self.limits = limits }

    public var count: Int { entries.count }

    public func value(for id: String) -> Value? {
        clock += 1
        guard var entry = entries[id] else {
            misses += 1
            return nil
        }
        hits += 1
        entry.lastUse = clock
        entries[id] = entry
        return entry.value
    }

    public func insert(_ value: Value, for id: String, bytes: Int) {
        clock += 1
        if let old = entries[id] { totalBytes -= old.bytes }
        entries[id] = Entry(value: value, bytes: bytes, lastUse: clock)
        totalBytes += bytes
        while entries.count > 1 && (entries.count > limits.count || totalBytes > limits.bytes) {
            guard let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }), oldest.key != id else { break }
            entries[oldest.key] = nil
            totalBytes -= oldest.value.bytes
            evictions += 1
        }
    }
}
