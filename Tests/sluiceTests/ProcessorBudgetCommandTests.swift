import Foundation
import Testing

/// The default of `--jobs` (and of `serve --workers`) follows the cores the process may use, not
/// the machine's: run under `taskset -c 0`, the binary defaults to one.
@Suite struct ProcessorBudgetCommand {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/taskset") && ProcessInfo.processInfo.activeProcessorCount > 1))
    func underTasksetOneCoreTheDefaultJobsIsOne() throws {
        let pinned = Process()
        pinned.executableURL = URL(fileURLWithPath: "/usr/bin/taskset")
        pinned.arguments = ["-c", "0", sluiceBinary.path, "run", "--help"]
        let output = Pipe()
        pinned.standardOutput = output
        pinned.standardError = FileHandle.nullDevice
        try pinned.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        pinned.waitUntilExit()
        let jobs = Self.jobsOption(text)
        #expect(jobs.contains("(default: 1)"), "\(jobs)")
        // And without it, every core this machine lets the test use.
        let free = Self.jobsOption(try sluice(["run", "--help"]).stdout)
        #expect(free.contains("(default: \(ProcessInfo.processInfo.activeProcessorCount))"), "\(free)")
    }

    /// The help text of `--jobs`: from its line to the next option's.
    static func jobsOption(_ help: String) -> String {
        guard let start = help.range(of: "--jobs <jobs>") else { return "" }
        let rest = help[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n  -")?.lowerBound ?? rest.endIndex)])
    }
}
