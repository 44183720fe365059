import SluiceCore
import SluiceRuntime

/// A `/customTransform` group of a transformation with a canary rollout in progress: its events
/// are assigned to the live version or the candidate by SluiceCore's `RolloutSplit` (sticky per
/// user), each share runs as a batch of its own on its version (a `transformBatch` function is
/// called once per share), and the results go back into one response in input order — one or
/// more items per input exactly as without a rollout, each with its input's metadata.
extension CustomTransformHandler {
    /// Runs `group` split by `plan`; true when a share failed for a reason a retry can fix (the
    /// whole group then gets that failure, as an unsplit group would: rudder-server retries it).
    func runSplit(_ group: [Input], plan: RolloutController.Plan, live: Program, liveLimits: Limits, versionID: String, body: [UInt8], filterCode: Bool,
                  into response: inout ResponseBuffer, engineTime: inout Duration) -> Bool {
        let name = live.source.name
        var batch = Self.batch(of: group, body: body)
        batch.fetch = fetch
        batch.fetchCallsPerInvocation = fetchCallsPerInvocation
        let assignment = RolloutSplit.assign(batch, candidateBasisPoints: plan.rollout.basisPoints, salt: plan.rollout.id)
        let shares = [(indices: assignment.live, program: live, limits: liveLimits), (indices: assignment.candidate, program: plan.candidate, limits: plan.candidateLimits)]
        var parts: [(indices: [Int], result: BatchResult)] = []
        var tallies = [OutcomeTally(), OutcomeTally()]
        var elapsedTotal = Duration.zero
        for (position, share) in shares.enumerated() where !share.indices.isEmpty {
            let part = RolloutSplit.part(of: batch, indices: share.indices)
            let start = ContinuousClock.now
            let ran = runShare(share.program, part, limits: share.limits)
            let elapsed = ContinuousClock.now - start
            elapsedTotal += elapsed
            engineTime += elapsed
            let result: BatchResult
            switch ran.execution {
            case .ran(let finished):
                result = Self.redacting(part.credentialValues, in: finished)
            case .failed(let failure) where failure.kind.isRetryable:
                fail(group, failure, version: share.program.id, transformation: name, into: &response)
                return true
            case .failed(let failure):
                // The candidate does not compile, say: its events fail, and count against it.
                result = BatchResult(failing: part, with: failure)
            }
            metrics?.batch(transformation: name, version: share.program.id, inputs: share.indices.count, result: result, duration: elapsed)
            if let breaker, ran.ran {
                breaker.record(version: share.program.id, transformation: name, events: share.indices.count, limitHits: OutcomeTally(result, events: 0).limitHits,
                               workerEndings: result.workerEndings, probe: ran.probe)
            }
            if let logger { Self.logLimitHits(result, transformation: name, version: share.program.id, logger: logger) }
            if position == 0 { recorder?.record(versionID: versionID, inputs: part.items, results: result.results) }
            tallies[position] = OutcomeTally(result, events: share.indices.count)
            parts.append((share.indices, result))
        }
        let merged = RolloutSplit.merge(parts, count: group.count)
        metrics?.rudderBatch(Self.rudderLabels(group), inputs: group.count, result: merged, duration: elapsedTotal)
        rollouts?.record(plan, live: tallies[0], candidate: tallies[1])
        // A failure or output that stands for a whole `transformBatch` call carries the metadata
        // of the events that call had: each share is then written with its own events.
        let groupLevel = merged.results.contains { result in
            if result.inputIndex == nil { return true }
            if case .failed(let failure) = result.outcome { return failure.coversBatch }
            return false
        }
        if groupLevel {
            for part in parts { response.items(of: part.result, group: part.indices.map { group[$0] }, filterCode: filterCode) }
        } else {
            response.items(of: merged, group: group, filterCode: filterCode)
        }
        return false
    }

    /// A batch (a whole group, or a rollout's share of one) through the breaker and the executor:
    /// how it ended, whether it ran, and whether it was the breaker's probe.
    func runShare(_ program: Program, _ part: Batch, limits: Limits) -> (execution: Execution, ran: Bool, probe: Bool) {
        switch breaker?.admit(version: program.id, transformation: program.source.name) ?? .run(probe: false) {
        case .run(let probe):
            return (executor.run(program, batch: part, limits: limits), true, probe)
        case .disabled(let message):
            return (.ran(BatchResult(failing: part, with: Failure(.disabled, message))), false, false)
        }
    }
}
