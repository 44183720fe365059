/// How running a batch through a transformation ended, whoever ran it (an engine in this process
/// or a worker process): the one vocabulary every caller — `/customTransform`, the test routes,
/// `/v1` runs and the CLI — maps to its own answer.
public enum Execution: Sendable {
    /// The batch ran: every input has its results (a call that forced its worker process to be
    /// ended included: that input's result is its terminal failure).
    case ran(BatchResult)
    /// The program does not compile (or link): the message, for every event of the batch.
    case compileFailed(String)
    /// Nothing usable came back for a reason a retry can fix (a worker process lost in a way that
    /// did not repeat when the events were run again, no worker free in time): the caller should
    /// retry the whole batch (HTTP 809 on `/customTransform`).
    case lost(String)
    /// The batch ran but its code changed state every tenant shares (an escape from the Python
    /// restrictions): its results are not trusted, and every event fails with this message.
    /// Retrying would do the same.
    case refused(String)
}
