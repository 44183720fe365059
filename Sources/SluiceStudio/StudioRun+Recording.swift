import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTesting

extension StudioRunPlan {
    /// A slice of a recording through the editor's code, compared event by event with what was
    /// recorded — what `sluice replay` does, on at most ``StudioRecordings/maximumSlice`` events:
    /// the run is the pasted events' (the same stream runner, outcomes, logs and times; the
    /// service's `fetch`), with the clock fixed and randomness seeded as replay and `sluice record`
    /// fix them; each event is compared by ``ReplaySummary/compare(expected:actual:event:location:ignore:examples:redact:)``
    /// (`unchanged`, `changed`, `newly failing`, …, with its differences by path).
    ///
    /// The run's answer is a pasted run's plus `recording` (the slice), `replay` (the counts,
    /// as `sluice replay --json` gives them) and `unreadable` (lines of the slice that are not
    /// recordings); each event gains `file`, its recording `line`, `comparison` (its class),
    /// `recorded` and `fresh` (the result lines before and now) and `differences`.
    func replay(_ program: Program, slice: StudioRecordings.Slice, on executor: any BatchExecutor, fetch: FetchHandler?) -> [String: Any] {
        var options = StreamOptions()
        options.includeLogs = true
        options.fetch = fetch
        options.limits = requested.applied(to: maxima)
        options.determinism = .testDefaults
        var input: [UInt8] = []
        for event in slice.events {
            input += event.input
            input.append(0x0A)
        }
        let recorder = RecordingExecutor(base: executor)
        var result = run(program, on: executor, input: input, options: options, expected: nil, ignore: slice.request.ignore,
                         name: slice.recording.name, recorder: recorder)
        result["recording"] = slice.jsonObject
        result["unreadable"] = slice.unreadable.map(\.jsonObject)
        guard var events = result["events"] as? [[String: Any]] else { return result }
        // The candidate's result lines per input, as replay groups them (results that belong to
        // no input go with their batch's last).
        let fresh = recorder.batches.flatMap { ReplaySummary.resultLines(of: $0.result, inputs: $0.count) }
        guard events.count == slice.events.count, fresh.count == slice.events.count else {
            result["status"] = "error"
            result["message"] = "the slice's \(slice.events.count) events came back as \(events.count) events with \(fresh.count) results: not compared"
            return result
        }
        var summary = ReplaySummary()
        summary.unreadable = slice.unreadable.count
        summary.seconds = (result["milliseconds"] as? Double ?? 0) / 1000
        for batch in recorder.batches { summary.outcomes.add(batch.result, events: batch.count) }
        for (index, recordedEvent) in slice.events.enumerated() {
            let reference = EventReference(line: recordedEvent.line, messageId: EventReference.messageId(ofInput: recordedEvent.input),
                                           file: recordedEvent.file)
            let examples = summary.examples.count
            let kind = summary.compare(expected: recordedEvent.recorded, actual: fresh[index], event: reference,
                                       location: "\(recordedEvent.file):\(recordedEvent.line)", ignore: slice.request.ignore, examples: examples + 1)
            let differences = summary.examples.count > examples ? summary.examples[examples].differences : []
            events[index]["file"] = recordedEvent.file
            events[index]["line"] = recordedEvent.line
            events[index]["comparison"] = kind
            events[index]["recorded"] = recordedEvent.recorded.map { Self.value($0) }
            events[index]["fresh"] = fresh[index].map { Self.value($0) }
            events[index]["differences"] = differences.map(\.description)
            events[index]["changes"] = differences.map { difference -> [String: Any] in
                var object = difference.jsonObject
                object["text"] = difference.description
                return object
            }
        }
        result["events"] = events
        var counts = ReplayReport.object(summary)
        counts["examples"] = nil  // each event carries its own comparison
        result["replay"] = counts
        result["status"] = summary.differs ? "changed" : "unchanged"
        return result
    }
}
