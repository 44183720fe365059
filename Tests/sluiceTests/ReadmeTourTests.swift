import Foundation
import Testing

/// The README's five-minute tour prints what the README says it prints: each `console` block of
/// the tour is run with the built binary in a fresh folder and its output compared line by line
/// (times and rates, which vary, are masked on both sides). The `sluice serve` block is left to
/// the service's own tests (it needs a port and a second shell).
@Suite struct ReadmeTour {
    /// The tour's `console` blocks, each as (commands, expected output lines), in order.
    static func tourBlocks() throws -> [[(command: String, output: [String])]] {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        guard let start = text.range(of: "## A five-minute tour"),
              let end = text.range(of: "\n## ", range: start.upperBound..<text.endIndex) else {
            Issue.record("README.md has no \"## A five-minute tour\" section")
            return []
        }
        var blocks: [[(command: String, output: [String])]] = []
        var current: [(command: String, output: [String])]?
        for line in text[start.upperBound..<end.lowerBound].split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if line == "```console" { current = []; continue }
            if line == "```", let block = current { blocks.append(block); current = nil; continue }
            guard current != nil else { continue }
            if line.hasPrefix("$ ") {
                current!.append((String(line.dropFirst(2)), []))
            } else if !current!.isEmpty {
                current![current!.count - 1].output.append(line)
            }
        }
        return blocks
    }

    /// Masks what varies from run to run: durations and rates.
    static func masked(_ line: String) -> String {
        line.replacingOccurrences(of: #" in [0-9.]+ s"#, with: " in … s", options: .regularExpression)
            .replacingOccurrences(of: #"\([0-9]+ events/s\)"#, with: "(… events/s)", options: .regularExpression)
    }

    /// Runs a tour command line (`sluice …`, optionally `&& cd DIR`) in `directory`; returns its
    /// standard output then standard error, as lines, and the folder it leaves the tour in.
    static func run(_ command: String, in directory: URL) throws -> (lines: [String], directory: URL) {
        var parts = command.components(separatedBy: " && ")
        var next = directory
        if let last = parts.last, last.hasPrefix("cd ") {
            next = directory.appendingPathComponent(String(last.dropFirst(3)))
            parts.removeLast()
        }
        #expect(parts.count == 1, "one sluice command per line: \(command)")
        let words = parts[0].split(separator: " ").map(String.init)
        #expect(words.first == "sluice", "\(command)")
        let result = try sluice(Array(words.dropFirst()), directory: directory)
        let lines = (result.stdout + result.stderr).split(separator: "\n").map(String.init)
        return (lines, next)
    }

    @Test func everyStepPrintsWhatTheReadmeShows() throws {
        let blocks = try Self.tourBlocks()
        #expect(blocks.count == 6, "the tour's console blocks: \(blocks.map { $0.map(\.command) })")
        guard blocks.count == 6 else { return }
        let root = try folder([:])
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        var directory = root

        func check(_ step: (command: String, output: [String]), prefixOnly: Bool = false) throws {
            let (lines, next) = try Self.run(step.command, in: directory)
            directory = next
            let expected = prefixOnly ? Array(step.output.prefix { $0 != "…" }) : step.output
            let actual = prefixOnly ? Array(lines.prefix(expected.count)) : lines
            #expect(actual.map(Self.masked) == expected.map(Self.masked), "\(step.command)")
        }

        // 1. init (the README shows the list of files, then "…").
        try check(blocks[0][0], prefixOnly: true)
        // 2. run, 3. test.
        try check(blocks[1][0])
        try check(blocks[2][0])
        // The change the README asks for, then 3. test again.
        let code = directory.appendingPathComponent("transformations/my-transformation/transform.js")
        let original = try String(contentsOf: code, encoding: .utf8)
        #expect(original.contains("titleCase(event.event)"))
        try original.replacingOccurrences(of: "titleCase(event.event)", with: "event.event.toUpperCase()")
            .write(to: code, atomically: true, encoding: .utf8)
        try check(blocks[3][0])
        // 5. record with the changed code, change it back, replay (block 4 is sluice serve).
        let recordAndReplay = blocks[5].filter { !$0.command.hasPrefix("#") }
        #expect(recordAndReplay.count == 2)
        try check(recordAndReplay[0])
        try original.write(to: code, atomically: true, encoding: .utf8)
        try check(recordAndReplay[1])
    }
}
