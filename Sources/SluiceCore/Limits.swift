/// The per-call limits every transformation runs under (CONTRACT.md §3).
///
/// A limit hit is an ordinary outcome: the event (or the batch, for `transformBatch`) that hit it
/// fails with ``FailureKind/timeLimit`` or ``FailureKind/memoryLimit``, and the engine keeps serving.
public struct Limits: Sendable, Hashable, Codable {
    /// Wall-clock time one call may take, in milliseconds. Default 4000.
    ///
    /// One call is one `transformEvent(event, metadata)` invocation (including the async
    /// continuations of the promise it returns) or one `transformBatch(events, metadata)`.
    /// Not counted: parsing the input, which the engine does before the calls. Counted in
    /// JavaScript: serialising the call's output and describing the error it threw, which run the
    /// user's `toJSON` methods and getters. The limit is checked about every 10 ms of the call's
    /// CPU time, so a call ends within `timeMilliseconds + 10 ms` in the usual case.
    public var timeMilliseconds: Int

    /// Memory one call may grow by while it runs, in megabytes. Default 128.
    ///
    /// JavaScript: growth of the process's resident memory over its value at the call's first
    /// check, checked about every 10 ms of CPU time (so a call is measured from at most 10 ms
    /// into it, and one large native allocation can overshoot before the next check). Python:
    /// bytes allocated by the interpreter since the call started, counted by allocator hooks that
    /// refuse the allocation that would cross the budget. Not counted: memory held before the
    /// call (compiled code, the parsed input batch, results of earlier calls).
    public var memoryMegabytes: Int

    /// The defaults: 4000 ms and 128 MB.
    public static let defaults = Limits(timeMilliseconds: 4000, memoryMegabytes: 128)

    public init(timeMilliseconds: Int = 4000, memoryMegabytes: Int = 128) {
        self.timeMilliseconds = timeMilliseconds
        self.memoryMegabytes = memoryMegabytes
    }

    /// The text of the error a time-limit hit produces: `time limit of 4000 ms exceeded`.
    public var timeLimitMessage: String { "time limit of \(timeMilliseconds) ms exceeded" }
    /// The text of the error a memory-limit hit produces: `memory limit of 128 MB exceeded`.
    public var memoryLimitMessage: String { "memory limit of \(memoryMegabytes) MB exceeded" }

    /// Checks the values are usable; returns a message naming the bad field, or nil.
    public func validationError() -> String? {
        if timeMilliseconds < 1 { return "time limit must be at least 1 ms (got \(timeMilliseconds))" }
        if memoryMegabytes < 1 { return "memory limit must be at least 1 MB (got \(memoryMegabytes))" }
        return nil
    }
}
