import Foundation
import SluiceCore
import SluiceRuntime

/// Text, JUnit XML and JSON renderings of a run's case reports.
public enum Reports {
    /// One line per case (and its differences below it), for a terminal when `colour` is set.
    public static func text(_ report: CaseReport, colour: Bool) -> String {
        let (mark, paint): (String, String) = switch report.status {
        case .passed: ("✓", "\u{1B}[32m")
        case .updated: ("↻", "\u{1B}[33m")
        case .recorded: ("✗", "\u{1B}[33m")
        case .failed, .error: ("✗", "\u{1B}[31m")
        }
        let reset = "\u{1B}[0m"
        var lines = [colour ? "\(paint)\(mark)\(reset) \(report.id)" : "\(mark) \(report.id)"]
        if report.status == .updated {
            lines[0] += report.differences.isEmpty
                ? " (updated)" : " (updated: \(Wording.counted(report.differences.count, "difference")))"
        }
        if let message = report.message { lines.append("    " + message) }
        // Differences under the event they are in (`input line 3, messageId m-3:`), in order.
        var currentEvent: EventReference?
        for difference in report.differences.prefix(50) {
            if let event = difference.event, event != currentEvent { lines.append("    \(event):") }
            currentEvent = difference.event
            let line = (difference.event == nil ? "    " : "      ") + difference.description
            if !colour {
                lines.append(line)
                continue
            }
            switch difference.kind {
            case .added: lines.append("\u{1B}[32m\(line)\(reset)")
            case .missing: lines.append("\u{1B}[31m\(line)\(reset)")
            case .changed: lines.append("\u{1B}[33m\(line)\(reset)")
            }
        }
        if report.differences.count > 50 { lines.append("    … \(report.differences.count - 50) more") }
        return lines.joined(separator: "\n")
    }

    /// `N passed, N failed` (recorded and error cases count as failed), then what the cases'
    /// events ended as: `; 12 events → 10 outputs, 1 dropped, 1 failed (1 exception)`.
    public static func summary(_ reports: [CaseReport]) -> String {
        let failed = reports.filter(\.isFailure).count
        let cases = "\(reports.count - failed) passed, \(failed) failed"
        guard let outcomes = outcomes(reports) else { return cases }
        return cases + "; " + outcomes.summary
    }

    /// The cases' tallies added up; nil when no case ran.
    static func outcomes(_ reports: [CaseReport]) -> OutcomeTally? {
        let tallies = reports.compactMap(\.outcomes)
        guard !tallies.isEmpty else { return nil }
        var total = OutcomeTally()
        for tally in tallies { total.add(tally) }
        return total
    }

    /// `{"events": …, "output": …, "dropped": …, "<kind>": …}`, as ``OutcomeTally`` encodes.
    static func object(_ outcomes: OutcomeTally) -> [String: Any] {
        var object: [String: Any] = ["events": outcomes.events]
        for (name, count) in outcomes.countsByName { object[name] = count }
        return object
    }

    /// JUnit XML: one test suite, one test case per snapshot case (class name: the transformation).
    public static func junit(_ reports: [CaseReport]) -> String {
        let failures = reports.filter(\.isFailure).count
        let total = reports.reduce(0) { $0 + $1.seconds }
        var xml = #"<?xml version="1.0" encoding="UTF-8"?>"# + "\n"
        xml += #"<testsuites name="sluice test" tests="\#(reports.count)" failures="\#(failures)" time="\#(format(total))">"# + "\n"
        xml += #"  <testsuite name="snapshots" tests="\#(reports.count)" failures="\#(failures)" errors="0" skipped="0" time="\#(format(total))">"# + "\n"
        for report in reports {
            let parts = report.id.split(separator: "/", maxSplits: 1).map(String.init)
            let className = escape(parts.first ?? report.id), name = escape(parts.count > 1 ? parts[1] : report.id)
            var element = #"    <testcase classname="\#(className)" name="\#(name)" time="\#(format(report.seconds))""#
            if report.isFailure {
                let detail = ([report.message].compactMap { $0 } + report.differences.map { difference in
                    difference.event.map { "\($0): \(difference.description)" } ?? difference.description
                }).joined(separator: "\n")
                let summary = report.status == .failed ? Wording.counted(report.differences.count, "difference") : report.status.rawValue
                element += ">\n      <failure message=\"\(escape(summary))\">\(escape(detail))</failure>\n    </testcase>"
            } else {
                element += "/>"
            }
            xml += element + "\n"
        }
        xml += "  </testsuite>\n</testsuites>\n"
        return xml
    }

    /// A JSON document: counts and every case with its status, differences (``JSONDifference/jsonObject``:
    /// `{path, expected, actual, event}`), message and outcomes (``OutcomeTally`` by outcome
    /// name), and the outcomes of all cases.
    public static func json(_ reports: [CaseReport]) throws -> Data {
        let failed = reports.filter(\.isFailure).count
        let cases: [[String: Any]] = reports.map { report in
            var entry: [String: Any] = ["id": report.id, "status": report.status.rawValue, "seconds": report.seconds,
                                        "differences": report.differences.map(\.jsonObject)]
            if let message = report.message { entry["message"] = message }
            if let outcomes = report.outcomes { entry["outcomes"] = object(outcomes) }
            return entry
        }
        var document: [String: Any] = ["passed": reports.count - failed, "failed": failed, "cases": cases]
        if let outcomes = outcomes(reports) { document["outcomes"] = object(outcomes) }
        return try JSONSerialization.data(withJSONObject: document, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
    }

    static func escape(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": result += "&amp;"
            case "<": result += "&lt;"
            case ">": result += "&gt;"
            case "\"": result += "&quot;"
            case "\u{1B}": result += ""
            default:
                // XML 1.0 allows tab, newline, carriage return and characters from U+0020.
                if scalar.value < 0x20 && scalar != "\n" && scalar != "\t" && scalar != "\r" { continue }
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    static func format(_ seconds: Double) -> String { String(format: "%.3f", seconds) }
}
