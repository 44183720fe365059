import Foundation
import SluiceCore
import SluiceRuntime

/// Text and JSON renderings of a replay's ``ReplaySummary``.
public enum ReplayReport {
    /// The counts, the paths that changed most and the first differing events, each named by
    /// its recording file and line and its `messageId`.
    public static func text(_ summary: ReplaySummary) -> String {
        var lines = [
            "replayed \(Wording.counted(summary.events, "event")) in \(String(format: "%.2f", summary.seconds)) s (\(Int(Double(summary.events) / max(summary.seconds, 0.000_001))) events/s)",
            "  candidate      \(summary.outcomes.summary)",
            "  unchanged      \(summary.unchanged)",
            "  changed        \(summary.changed)",
            "  newly dropped  \(summary.newlyDropped)",
            "  newly produced \(summary.newlyProduced)",
            "  newly failing  \(summary.newlyFailing)",
            "  newly passing  \(summary.newlyPassing)",
        ]
        if summary.unreadable > 0 { lines.append("  unreadable lines \(summary.unreadable)") }
        if !summary.paths.isEmpty {
            lines.append("paths that changed most:")
            let top = summary.paths.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.prefix(10)
            let widest = top.map(\.value).max() ?? 1
            for (path, count) in top {
                let bar = String(repeating: "▇", count: max(1, count * 20 / widest))
                lines.append("  \(String(count).padding(toLength: 8, withPad: " ", startingAt: 0)) \(bar) \(path)")
            }
        }
        for example in summary.examples {
            lines.append("\(example.event) (\(example.kind)):")
            lines += example.differences.map { "    " + $0.description }
        }
        return lines.joined(separator: "\n")
    }

    /// A JSON document: the counts, the candidate's outcomes, the paths, and each example with
    /// its event (`{file, line, messageId}`) and its differences as `{path, expected, actual}`
    /// objects holding the values themselves.
    public static func json(_ summary: ReplaySummary) throws -> Data {
        try JSONSerialization.data(withJSONObject: object(summary), options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    /// The document ``json(_:)`` prints, as an object (Studio's recording runs answer with it).
    public static func object(_ summary: ReplaySummary) -> [String: Any] {
        [
            "events": summary.events, "unchanged": summary.unchanged, "changed": summary.changed,
            "newlyDropped": summary.newlyDropped, "newlyProduced": summary.newlyProduced,
            "newlyFailing": summary.newlyFailing, "newlyPassing": summary.newlyPassing,
            "unreadable": summary.unreadable, "seconds": summary.seconds, "differs": summary.differs,
            "outcomes": Reports.object(summary.outcomes), "paths": summary.paths,
            "examples": summary.examples.map { example -> [String: Any] in
                ["location": example.location, "event": example.event.jsonObject, "kind": example.kind,
                 "differences": example.differences.map { difference in
                     var object = difference.jsonObject
                     object["event"] = nil  // the example's own
                     return object
                 }]
            },
        ]
    }
}
