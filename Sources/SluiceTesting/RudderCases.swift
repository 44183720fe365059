import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// A test case of a RudderStack CLI project: one input file of a transformation's test suite,
/// compared with the output file of the same name (see ``RudderProject``).
///
/// The input file holds one event or an array of events (bare events or envelopes). The result
/// compared is, for one event, the event returned (an array when it was split, `null` when it
/// was dropped); for an array, the array of every returned event. An error fails the case. As in
/// RudderStack's CLI, a case without an output file passes when it runs without error (it is
/// not compared); `--update` writes it.
public struct RudderCase: Sendable {
    public var project: RudderProject
    public var transformation: RudderProject.Transformation
    public var suite: RudderProject.TestSuite
    public var inputPath: String
    public var outputPath: String
    /// `<transformation id>/<suite name>/<file>`.
    public var id: String

    /// The cases of every project found below `paths`.
    public static func discover(in paths: [String]) throws -> [RudderCase] {
        var cases: [RudderCase] = []
        var seen = Set<String>()
        for path in paths {
            let root = URL(fileURLWithPath: path).standardizedFileURL.path
            guard RudderProject.exists(at: root) else { continue }
            let project = try RudderProject.load(root)
            for transformation in project.transformations {
                for suite in transformation.tests {
                    let files = ((try? FileManager.default.contentsOfDirectory(atPath: suite.inputDirectory)) ?? [])
                        .filter { $0.hasSuffix(".json") }.sorted()
                    for file in files where seen.insert(suite.inputDirectory + "/" + file).inserted {
                        cases.append(RudderCase(
                            project: project, transformation: transformation, suite: suite,
                            inputPath: suite.inputDirectory + "/" + file, outputPath: suite.outputDirectory + "/" + file,
                            id: "\(transformation.id)/\(suite.name)/\(file)"
                        ))
                    }
                }
            }
        }
        return cases
    }
}

extension SnapshotRunner {
    /// Runs a RudderStack CLI test case.
    public func run(_ rudderCase: RudderCase) -> CaseReport {
        timed { runRudder(rudderCase, outcomes: &$0) }
    }

    /// Runs the case and compares; `outcomes` gets the run's tally when it ran.
    private func runRudder(_ rudderCase: RudderCase, outcomes: inout OutcomeTally?) -> CaseReport {
        do {
            let input = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: rudderCase.inputPath)), options: [.fragmentsAllowed])
            let single = !(input is [Any])
            let events = single ? [input] : input as! [Any]
            let items = try events.map { Array(try JSONSerialization.data(withJSONObject: $0, options: [.fragmentsAllowed])) }
            let program = try Program.linking(rudderCase.transformation.source, from: rudderCase.project.libraryProvider)
            if let message = executor.compileError(program) {
                return CaseReport(id: rudderCase.id, status: .error, message: "\(rudderCase.transformation.source.fileName): \(message)")
            }
            let result = executor.results(program, batch: Batch(items: items, determinism: .testDefaults), limits: .defaults)
            outcomes = OutcomeTally(result, events: items.count)
            var outputs: [[Any]] = Array(repeating: [], count: items.count)
            var unattributed: [Any] = []
            for eventResult in result.results {
                switch eventResult.outcome {
                case .failed(let failure):
                    return CaseReport(id: rudderCase.id, status: .error, message: "execution error: \(failure.message)")
                case .dropped:
                    continue
                case .output(let json):
                    let value = try JSONSerialization.jsonObject(with: Data(json), options: [.fragmentsAllowed])
                    if let index = eventResult.inputIndex { outputs[index].append(value) } else { unattributed.append(value) }
                }
            }
            let actual: Any
            if single {
                actual = outputs[0].isEmpty ? NSNull() : outputs[0].count == 1 ? outputs[0][0] : outputs[0]
            } else {
                actual = outputs.flatMap { $0 } + unattributed
            }
            guard FileManager.default.fileExists(atPath: rudderCase.outputPath) else {
                if update {
                    try write(actual, to: rudderCase.outputPath)
                    return CaseReport(id: rudderCase.id, status: .updated, message: "wrote \(rudderCase.outputPath)")
                }
                return CaseReport(id: rudderCase.id, status: .passed, message: "no expected output: ran without error, not compared")
            }
            let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: rudderCase.outputPath)), options: [.fragmentsAllowed])
            let differences = JSONDiff.differences(expected: expected, actual: actual)
            if differences.isEmpty { return CaseReport(id: rudderCase.id, status: .passed) }
            if update {
                try write(actual, to: rudderCase.outputPath)
                return CaseReport(id: rudderCase.id, status: .updated, differences: differences)
            }
            return CaseReport(id: rudderCase.id, status: .failed, differences: differences)
        } catch {
            return CaseReport(id: rudderCase.id, status: .error, message: "\(error)")
        }
    }

    private func write(_ value: Any, to path: String) throws {
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        var data = try JSONSerialization.data(withJSONObject: value, options: [.prettyPrinted, .fragmentsAllowed, .withoutEscapingSlashes])
        data.append(0x0A)
        try data.write(to: URL(fileURLWithPath: path))
    }
}
