/// Why a call failed for an event (or a whole batch).
///
/// Kinds are extensible values rather than a closed enum so that adding one breaks nobody.
public struct FailureKind: Sendable, Hashable, CustomStringConvertible {
    /// A stable identifier used in metrics and JSON (`exception`, `time_limit`, …).
    public let name: String
    private init(_ name: String) { self.name = name }

    /// The user function threw (or its promise rejected).
    public static let exception = FailureKind("exception")
    /// The function returned something the contract does not allow (not an object, …).
    public static let invalidResult = FailureKind("invalid_result")
    /// The call ran past ``Limits/timeMilliseconds``.
    public static let timeLimit = FailureKind("time_limit")
    /// The call grew memory past ``Limits/memoryMegabytes``.
    public static let memoryLimit = FailureKind("memory_limit")
    /// The input item was not valid JSON or not an event object.
    public static let invalidInput = FailureKind("invalid_input")
    /// The output could not be serialised as JSON (a cycle, a BigInt, …).
    public static let unserializableResult = FailureKind("unserializable_result")
    /// The transformation failed to compile or link (every event of the batch gets it).
    public static let compile = FailureKind("compile")
    /// The engine failed for a reason that is not the user's (a bug, an engine that had to be
    /// abandoned). Retrying may succeed.
    public static let engine = FailureKind("engine")
    /// The worker process running this event's call died (a signal, an abort), and died again when
    /// the event was run once more on a fresh worker: the event's own, terminal result.
    public static let crash = FailureKind("crash")
    /// The transformation version is disabled by its circuit breaker (its events kept ending
    /// worker processes or hitting limits); the message says why and until when.
    public static let disabled = FailureKind("disabled")
    /// No such transformation or version (decided before any engine runs).
    public static let notFound = FailureKind("not_found")
    /// Where the code or the capacity comes from failed for a reason a retry can fix (a config
    /// backend's 5xx or no answer, a store that is down, no worker free in time). Retryable.
    public static let unavailable = FailureKind("unavailable")
    /// The worker process running the batch was lost in a way that did not repeat when its events
    /// were run again: not the events' fault. Retryable.
    public static let workerLost = FailureKind("worker_lost")
    /// The batch ran but changed state every tenant shares (an escape from the Python
    /// restrictions): its results are not trusted. Retrying would do the same.
    public static let refused = FailureKind("refused")

    /// Looks a kind up by its ``name``.
    public static func named(_ name: String) -> FailureKind {
        switch name {
        case "exception": .exception
        case "invalid_result": .invalidResult
        case "time_limit": .timeLimit
        case "memory_limit": .memoryLimit
        case "invalid_input": .invalidInput
        case "unserializable_result": .unserializableResult
        case "compile": .compile
        case "engine": .engine
        case "crash": .crash
        case "disabled": .disabled
        case "not_found": .notFound
        case "unavailable": .unavailable
        case "worker_lost": .workerLost
        case "refused": .refused
        default: FailureKind(name)
        }
    }

    public var description: String { name }

    /// True for the two limit kinds.
    public var isLimit: Bool { self == .timeLimit || self == .memoryLimit }

    /// True for the kinds a caller should retry (the same events may succeed when run again):
    /// ``unavailable`` and ``workerLost``. Every other kind is the event's terminal result.
    public var isRetryable: Bool { self == .unavailable || self == .workerLost }

    /// Every kind this build knows, in a stable order (for documentation and exhaustive tests).
    public static let all: [FailureKind] = [
        .exception, .invalidResult, .timeLimit, .memoryLimit, .invalidInput, .unserializableResult, .compile, .engine,
        .crash, .disabled, .notFound, .unavailable, .workerLost, .refused,
    ]
}

/// A failed call: a kind and the message shown to the user.
public struct Failure: Error, Sendable, Hashable, CustomStringConvertible {
    public var kind: FailureKind
    /// For exceptions: `<ErrorClass>: <message>` followed by the user-code stack frames.
    public var message: String
    /// Whether this is one failure of a whole `transformBatch` call — it threw, or returned
    /// something that is not an array — which every input of the call carries. rudder-transformer
    /// answers such a call with one error item for the group rather than one per event.
    public var coversBatch: Bool

    public init(_ kind: FailureKind, _ message: String, coversBatch: Bool = false) {
        self.kind = kind
        self.message = message
        self.coversBatch = coversBatch
    }

    public var description: String { message }
}

/// A transformation that cannot be compiled or linked: a syntax error, a missing or cyclic
/// import, no (or two) entry points.
public struct CompileError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The message, naming the file, line and column where there is one.
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
