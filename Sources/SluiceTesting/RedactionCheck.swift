import Foundation
import SluiceCore
import SluiceRuntime

/// Whether redaction keeps a recording replayable: `sluice record --redact` runs each event's
/// recorded (redacted) input through the transformation too — exactly what `sluice replay` will
/// run — and compares the results with those recorded from the real input. An event whose results
/// differ has a redacted value feeding its output: replaying the unchanged transformation would
/// report it as changed. The check warns about such events when recording rather than letting
/// replay guess (replay cannot tell a difference caused by redaction from one caused by the
/// code, so calling those events "redacted input" there would hide real changes).
public struct RedactionCheck: Sendable {
    /// The paths redacted (for the warning).
    public let paths: [String]
    /// Events compared, and those whose results differ.
    public private(set) var checked = 0
    public private(set) var affected = 0
    /// How often each result path (indices generalised) differed.
    public private(set) var differingPaths: [String: Int] = [:]
    /// The first affected events, with their first differences.
    public private(set) var examples: [(event: EventReference, differences: [JSONDifference])] = []

    public init(paths: [String]) {
        self.paths = paths
    }

    /// One event: the result lines recorded for it and the results its recorded input gives.
    public mutating func add(recorded: [[UInt8]], fromRecordedInput results: [EventResult], event: EventReference) {
        checked += 1
        let expected = recorded.compactMap { try? JSONSerialization.jsonObject(with: Data($0)) }
        let actual = results.compactMap { result -> Any? in
            var line: [UInt8] = []
            ResultLine.append(result, to: &line)
            return try? JSONSerialization.jsonObject(with: Data(line))
        }
        let differences = JSONDiff.differences(expected: expected, actual: actual)
        guard !differences.isEmpty else { return }
        affected += 1
        for difference in differences { differingPaths[ReplaySummary.generalise(difference.path), default: 0] += 1 }
        if examples.count < 3 { examples.append((event, Array(differences.prefix(3)))) }
    }

    /// The warning to print, nil when redaction changes no event's results.
    public var warning: String? {
        guard affected > 0 else { return nil }
        let top = differingPaths.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(5).map(\.key)
        var lines = [
            "warning: redacted input feeds the output of \(affected) of \(checked) recorded event\(checked == 1 ? "" : "s") (--redact \(paths.joined(separator: ", "))): "
                + "replay runs the redacted input, so \(affected == 1 ? "that event" : "those events") will replay as changed even with unchanged code.",
        ]
        for example in examples {
            lines.append("  \(example.event): " + example.differences.map(\.description).joined(separator: "; "))
        }
        lines.append("  Redact fewer paths, or replay with " + top.map { "--ignore '\($0)'" }.joined(separator: " ") + ".")
        return lines.joined(separator: "\n")
    }
}
