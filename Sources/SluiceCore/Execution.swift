/// How running a batch through a transformation ended, whoever ran it (an engine in this process
/// or a worker process): the one vocabulary every caller — `/customTransform`, the test routes,
/// `/v1` runs and the CLI — maps to its own answer.
public enum Execution: Sendable {
    /// The batch ran: every input has its results (a call that forced its worker process to be
    /// ended included: that input's result is its terminal failure).
    case ran(BatchResult)
    /// Nothing of the batch is usable, for one reason that holds for every event: the program
    /// does not compile (``FailureKind/compile``), the batch changed state every tenant shares
    /// (``FailureKind/refused``), its worker process was lost in a way that did not repeat
    /// (``FailureKind/workerLost``) or no worker could be had (``FailureKind/unavailable``). The
    /// kind's ``FailureKind/isRetryable`` says whether running the batch again may succeed.
    case failed(Failure)

    /// The batch-level failure, or nil when the batch ran.
    public var failure: Failure? {
        if case .failed(let failure) = self { return failure }
        return nil
    }

    /// Per-event results for `batch`: the batch's own when it ran, else the batch's failure for
    /// every event (with its metadata), so every input has exactly one result.
    public func results(for batch: Batch) -> BatchResult {
        switch self {
        case .ran(let result):
            return result
        case .failed(let failure):
            return BatchResult(failing: batch, with: failure)
        }
    }
}

extension BatchResult {
    /// Every input of `batch` failed with `failure`, each carrying its own metadata (none when the
    /// batch does not attach metadata: a worker's, whose server attaches its own copy).
    public init(failing batch: Batch, with failure: Failure) {
        let metadata = batch.itemMetadata
        self.init(results: batch.items.indices.map {
            EventResult(inputIndex: $0, outcome: .failed(failure), metadata: $0 < metadata.count ? metadata[$0] : [])
        }, logs: [])
    }
}
