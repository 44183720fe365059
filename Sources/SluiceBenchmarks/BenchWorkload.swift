import Foundation
import SluiceCore

/// The reference benchmark workload (`../shared/bench`): an event generator, transformations per
/// language in `workloads/`, and the libraries they import in `libraries/`.
public struct ReferenceWorkload: Sendable {
    /// The benchmark folder.
    public let directory: String

    /// Why a benchmark could not be run (a missing folder, a generator that failed).
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The workload at `directory`; fails when it has no event generator.
    public init(directory: String) throws {
        guard FileManager.default.fileExists(atPath: directory + "/gen_events.py") else {
            throw Problem("no benchmark workload at \(directory) (expected gen_events.py); pass --bench-directory")
        }
        self.directory = directory
    }

    /// The default folder: `$SLUICE_BENCH_DIR`, else `../shared/bench`.
    public static var defaultDirectory: String { ProcessInfo.processInfo.environment["SLUICE_BENCH_DIR"] ?? "../shared/bench" }

    public var librariesDirectory: String { directory + "/libraries" }

    /// The workloads of `language` (file names without extension), sorted; only `selected` ones when given.
    public func workloads(_ language: Language, selected: [String] = []) throws -> [String] {
        let suffix = "." + language.fileExtension
        let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/workloads")
            .filter { $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }
            .filter { selected.isEmpty || selected.contains($0) }
            .sorted()
        guard !names.isEmpty else { throw Problem("no matching workloads in \(directory)/workloads") }
        return names
    }

    /// The source of workload `name`.
    public func source(_ name: String, language: Language) throws -> TransformationSource {
        let fileName = "\(name).\(language.fileExtension)"
        let code = try String(contentsOfFile: "\(directory)/workloads/\(fileName)", encoding: .utf8)
        return TransformationSource(name: name, language: language, fileName: fileName, code: code)
    }

    /// The path of workload `name`'s file.
    public func path(_ name: String, language: Language) -> String { "\(directory)/workloads/\(name).\(language.fileExtension)" }

    /// `count` generated events (seed 1), one JSON object each.
    public func events(count: Int) throws -> [JSONText] {
        let data = try generate(["--count", String(count), "--seed", "1"])
        return data.split(separator: UInt8(ascii: "\n")).map { Array($0) }
    }

    /// The same events as `/customTransform` request bodies of `batchSize` events each.
    public func requestBodies(count: Int, batchSize: Int) throws -> [[UInt8]] {
        let body = try generate(["--count", String(count), "--seed", "1", "--format", "customTransform"])
        let elements = try RawJSON.arrayElements(body)
        return stride(from: 0, to: elements.count, by: max(1, batchSize)).map { start in
            var request: [UInt8] = [UInt8(ascii: "[")]
            for (position, element) in elements[start..<min(start + batchSize, elements.count)].enumerated() {
                if position > 0 { request.append(UInt8(ascii: ",")) }
                request += body[element]
            }
            request.append(UInt8(ascii: "]"))
            return request
        }
    }

    private func generate(_ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", directory + "/gen_events.py"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = [UInt8](pipe.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw Problem("gen_events.py failed with status \(process.terminationStatus)") }
        return data
    }
}
