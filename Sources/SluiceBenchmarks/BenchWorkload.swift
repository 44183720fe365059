import Foundation
import SluiceCore

/// A benchmark workload: transformations per language in `workloads/`, the libraries they import
/// in `libraries/`, and the events they run on. Either the reference workload (`../shared/bench`,
/// kept outside the repository, events from its `gen_events.py`) or Sluice's own small workload
/// (`Benchmarks/workload`, events from ``GeneratedEvents``), so `sluice bench` runs from a clone.
public struct BenchWorkload: Sendable {
    /// Where a workload's events come from.
    public enum Kind: Sendable, Equatable {
        /// The folder's `gen_events.py` makes the events (the reference workload).
        case reference
        /// The folder has no generator: ``GeneratedEvents`` makes them (Sluice's own workload).
        case own
    }

    /// The benchmark folder.
    public let directory: String
    public let kind: Kind

    /// Why a benchmark could not be run (a missing folder, a generator that failed).
    public struct Problem: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The workload at `directory`: its events come from its `gen_events.py` when it has one
    /// (``Kind/reference``), else from ``GeneratedEvents`` (``Kind/own``). Fails without `workloads/`.
    public init(directory: String) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory + "/workloads", isDirectory: &isFolder), isFolder.boolValue else {
            throw Problem("no benchmark workload at \(directory) (expected a workloads/ folder)")
        }
        self.directory = directory
        kind = FileManager.default.fileExists(atPath: directory + "/gen_events.py") ? .reference : .own
    }

    public var librariesDirectory: String { directory + "/libraries" }

    /// The workloads of `language` (file names without extension), sorted; only `selected` ones when given.
    public func workloads(_ language: Language, selected: [String] = []) throws -> [String] {
        let suffix = "." + language.fileExtension
        let names = try FileManager.default.contentsOfDirectory(atPath: directory + "/workloads")
            .filter { $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }
            .filter { selected.isEmpty || selected.contains($0) }
            .sorted()
        guard !names.isEmpty else { throw Problem("no matching \(language.rawValue) workloads in \(directory)/workloads") }
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

    /// `count` events (seed 1), one `{"message", "metadata"}` envelope each.
    public func events(count: Int) throws -> [JSONText] {
        switch kind {
        case .own:
            return GeneratedEvents(seed: 1).envelopes(count: count)
        case .reference:
            let data = try generate(["--count", String(count), "--seed", "1"])
            return data.split(separator: UInt8(ascii: "\n")).map { Array($0) }
        }
    }

    /// The same events as `/customTransform` request bodies of `batchSize` events each.
    public func requestBodies(count: Int, batchSize: Int) throws -> [[UInt8]] {
        let body: [UInt8]
        switch kind {
        case .own: body = GeneratedEvents(seed: 1).customTransformBody(count: count)
        case .reference: body = try generate(["--count", String(count), "--seed", "1", "--format", "customTransform"])
        }
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
        guard process.terminationStatus == 0 else {
            throw Problem("\(directory)/gen_events.py failed with status \(process.terminationStatus)")
        }
        return data
    }
}
