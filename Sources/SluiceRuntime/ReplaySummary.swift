import Foundation
import SluiceCore

/// What comparing two runs of the same events found, per input event: a replay's (`sluice
/// replay`: recorded results or a baseline transformation against a candidate) and a shadow
/// run's (the service's live version against a candidate, ``ShadowRun``). Each event is
/// unchanged, changed, newly dropped, newly produced, newly failing or newly passing; the paths
/// that differ are counted with their indices generalised, and the first differing events kept.
public struct ReplaySummary: Sendable {
    public struct Example: Sendable {
        /// `<file>:<line>` of the recorded event (a shadow run's: `batch <n>, event <i>`).
        public var location: String
        /// The event: its recording file and line when it has them, and its `messageId`.
        public var event: EventReference
        public var kind: String
        public var differences: [JSONDifference]
    }

    public var events = 0
    /// What the candidate's results were (``OutcomeTally``; its `events` equals ``events``).
    public var outcomes = OutcomeTally()
    public var unchanged = 0
    public var changed = 0
    public var newlyDropped = 0
    /// Events that were dropped and now give output.
    public var newlyProduced = 0
    public var newlyFailing = 0
    public var newlyPassing = 0
    /// Recording lines that are not recordings (reported, not replayed).
    public var unreadable = 0
    /// How often each path (indices generalised to `[*]`) differed.
    public var paths: [String: Int] = [:]
    /// The first differing events in full.
    public var examples: [Example] = []
    public var seconds = 0.0

    public init() {}

    /// True when any event's results differ.
    public var differs: Bool { changed + newlyDropped + newlyProduced + newlyFailing + newlyPassing > 0 }

    /// The classes an event can fall in, as ``compare(expected:actual:event:location:ignore:examples:)`` names them.
    public static let kinds = ["unchanged", "changed", "newly dropped", "newly produced", "newly failing", "newly passing"]

    /// Compares one event's result lines (`expected`: recorded or the baseline's, `actual`: the
    /// candidate's), counts it, and keeps it as an example while fewer than `examples` are kept
    /// (its differences passed through `redact` first; `event` and `location` are
    /// only asked for then). Returns the event's class (``kinds``).
    @discardableResult
    public mutating func compare(expected: [[UInt8]], actual: [[UInt8]], event: @autoclosure () -> EventReference, location: @autoclosure () -> String,
                                 ignore: [String] = [],
                                 examples: Int, redact: (JSONDifference) -> JSONDifference = { $0 }) -> String {
        events += 1
        if expected == actual {
            unchanged += 1
            return "unchanged"
        }
        let expectedValues = expected.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) }
        let actualValues = Self.withoutKindsRecordedWithout(
            expected: expectedValues, actual: actual.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) })
        let differences = JSONDiff.differences(expected: expectedValues, actual: actualValues, ignore: ignore)
        if differences.isEmpty {
            unchanged += 1
            return "unchanged"
        }
        func kinds(_ values: [Any]) -> Set<String> {
            Set(values.compactMap { ($0 as? [String: Any]).flatMap { object in ["output", "dropped", "error"].first { object[$0] != nil } } })
        }
        let before = kinds(expectedValues), after = kinds(actualValues)
        let kind: String
        if !before.contains("error") && after.contains("error") {
            kind = "newly failing"
            newlyFailing += 1
        } else if before.contains("error") && !after.contains("error") {
            kind = "newly passing"
            newlyPassing += 1
        } else if before.contains("output") && !after.contains("output") && after.contains("dropped") {
            kind = "newly dropped"
            newlyDropped += 1
        } else if !before.contains("output") && before.contains("dropped") && after.contains("output") {
            kind = "newly produced"
            newlyProduced += 1
        } else {
            kind = "changed"
            changed += 1
        }
        for difference in differences {
            paths[Self.generalise(difference.path), default: 0] += 1
        }
        if self.examples.count < examples {
            let event = event()
            self.examples.append(.init(location: location(), event: event, kind: kind,
                                       differences: differences.prefix(20).map { redact(JSONDifference(path: $0.path, kind: $0.kind, event: event)) }))
        }
        return kind
    }

    /// Result lines per input (what `sluice run` prints for each result); results that belong
    /// to no input go with the batch's last input.
    public static func resultLines(of result: BatchResult, inputs count: Int) -> [[[UInt8]]] {
        var grouped = [[[UInt8]]](repeating: [], count: count)
        guard count > 0 else { return grouped }
        for eventResult in result.results {
            var line: [UInt8] = []
            ResultLine.append(eventResult, to: &line)
            grouped[min(eventResult.inputIndex ?? (count - 1), count - 1)].append(line)
        }
        return grouped
    }

    /// `actual` without the `"kind"` of the error lines whose recorded counterpart has none:
    /// recordings made before error lines carried their kind still replay unchanged.
    static func withoutKindsRecordedWithout(expected: [Any], actual: [Any]) -> [Any] {
        actual.enumerated().map { index, value in
            guard index < expected.count, let recorded = expected[index] as? [String: Any], recorded["error"] != nil,
                  recorded["kind"] == nil, var fresh = value as? [String: Any], fresh["error"] != nil else { return value }
            fresh["kind"] = nil
            return fresh
        }
    }

    /// `$[0].output.products[3].price` → `$[*].output.products[*].price`.
    public static func generalise(_ path: String) -> String {
        var result = ""
        var inIndex = false
        for character in path {
            if character == "[" {
                inIndex = true
                result.append("[")
            } else if inIndex {
                if character == "]" {
                    inIndex = false
                    result += "*]"
                } else if !character.isNumber {
                    // a quoted key, not an index: keep it
                    inIndex = false
                    result.append(character)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }
}
