import Foundation
import SluiceCore
import SluiceRegistry

/// Recordings of traffic: NDJSON, one line per input event,
///
/// ```json
/// {"input": <the input item as received>, "results": [<result line>, …]}
/// ```
///
/// where each result line is what `sluice run` prints for it (`{"output":…,"metadata":…}`,
/// `{"dropped":true,…}`, `{"error":"…",…}`). `input` comes first, so the replayer slices it out
/// without parsing the line.
public final class RecordingWriter {
    public struct Options: Sendable {
        /// Where the files go: `<directory>/<name>-0001.ndjson`, `-0002`, …
        public var directory: String
        /// Usually the transformation's name (and version).
        public var name: String
        /// A new file starts once the current one reaches this size. Default 64 MB.
        public var maximumFileBytes = 64 << 20
        /// Fraction of events kept, chosen by a hash of the input (so the same event is always
        /// kept or always not). Default 1.
        public var sampleRate = 1.0
        /// Paths in the input item whose values are replaced by `"[redacted]"` (`*` and `[*]`
        /// allowed); `$.message…` paths are redacted in the results' `output` too.
        public var redact: [String] = []

        public init(directory: String, name: String) {
            self.directory = directory
            self.name = name
        }
    }

    public let options: Options
    private var handle: FileHandle?
    private var fileNumber = 0
    private var fileBytes = 0
    private var pending: [UInt8] = []
    /// Events written so far.
    public private(set) var written = 0
    /// Files written so far.
    public private(set) var files: [String] = []

    /// With `continuing`, numbering goes on after the folder's existing `<name>-<n>.ndjson`
    /// files (a restarted service adds to its recording); otherwise it starts at 1.
    public init(options: Options, continuing: Bool = false) throws {
        self.options = options
        try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
        if continuing {
            let prefix = options.name + "-"
            fileNumber = ((try? FileManager.default.contentsOfDirectory(atPath: options.directory)) ?? [])
                .filter { $0.hasPrefix(prefix) && $0.hasSuffix(".ndjson") }
                .compactMap { Int($0.dropFirst(prefix.count).dropLast(".ndjson".count)) }
                .max() ?? 0
        }
    }

    deinit { try? close() }

    /// Records one input and its results (in order).
    /// `sampled: true` when the caller has already applied the sample rate.
    public func append(input: JSONText, results: [EventResult], sampled: Bool = false) throws {
        guard sampled || Self.sampled(input, rate: options.sampleRate) else { return }
        var line: [UInt8] = []
        line.reserveCapacity(input.count * 2 + 64)
        let invalid = results.contains { if case .failed(let failure) = $0.outcome { failure.kind == .invalidInput } else { false } }
        if invalid, (try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])) == nil {
            // Not JSON: kept as its text, so replay feeds the engine the same bytes.
            line += #"{"input":"#.utf8
            JSONString.append(String(decoding: input, as: UTF8.self), to: &line)
            line += #","raw":true"#.utf8
        } else {
            line += #"{"input":"#.utf8
            line += try Self.recordedInput(input, options: options)
        }
        line += #","results":["#.utf8
        for (position, result) in results.enumerated() {
            if position > 0 { line.append(UInt8(ascii: ",")) }
            line += try Self.recordedResult(result, options: options)
        }
        line += "]}\n".utf8
        try write(line)
        written += 1
    }

    public func close() throws {
        try flush()
        try handle?.close()
        handle = nil
    }

    private func write(_ line: [UInt8]) throws {
        if handle == nil || fileBytes + line.count > options.maximumFileBytes && fileBytes > 0 {
            try flush()
            try handle?.close()
            fileNumber += 1
            let path = options.directory + "/" + options.name + String(format: "-%04d.ndjson", fileNumber)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            guard let next = FileHandle(forWritingAtPath: path) else { throw LoadError("\(path): cannot write the recording") }
            handle = next
            files.append(path)
            fileBytes = 0
        }
        pending += line
        fileBytes += line.count
        if pending.count >= 1 << 20 { try flush() }
    }

    /// Writes what is buffered to the current file.
    public func flush() throws {
        guard let handle, !pending.isEmpty else { return }
        try handle.write(contentsOf: pending)
        pending.removeAll(keepingCapacity: true)
    }

    // MARK: - Sampling and redaction

    /// Pretty-printed JSON (array items pass through byte for byte) made compact, so a
    /// recording stays one line per event.
    static func singleLine(_ input: JSONText) throws -> JSONText {
        guard input.contains(0x0A) || input.contains(0x0D) else { return input }
        let value = try JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed])
        return Array(try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
    }

    public static func sampled(_ input: JSONText, rate: Double) -> Bool {
        if rate >= 1 { return true }
        if rate <= 0 { return false }
        var hash: UInt32 = 0x811C_9DC5
        for byte in input { hash = (hash ^ UInt32(byte)) &* 0x0100_0193 }
        return Double(hash) / Double(UInt32.max) < rate
    }

    /// The input as a recording holds it (and as replay feeds it): on one line, credential
    /// values always removed, the configured paths redacted.
    public static func recordedInput(_ input: JSONText, options: Options) throws -> JSONText {
        let input = try singleLine(input)
        let hasCredentials = input.firstRange(of: Array(#""credentials""#.utf8)) != nil
        guard hasCredentials || !options.redact.isEmpty else { return input }
        guard var value = try? JSONSerialization.jsonObject(with: Data(input), options: [.fragmentsAllowed]) else { return input }
        if var object = value as? [String: Any], let credentials = object["credentials"] as? [[String: Any]] {
            object["credentials"] = credentials.map { entry in
                var entry = entry
                if entry["value"] != nil { entry["value"] = "[redacted]" }
                return entry
            }
            value = object
        }
        for path in options.redact { value = Redaction.redact(value, path: PathPattern(path).components) }
        return Array(try JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .withoutEscapingSlashes]))
    }

    /// A result's line as a recording holds it: `$.message…` redaction paths applied to its `output`.
    public static func recordedResult(_ result: EventResult, options: Options) throws -> [UInt8] {
        var line: [UInt8] = []
        ResultLine.append(result, to: &line)
        let paths = options.redact.compactMap { path -> [String]? in
            let components = PathPattern(path).components
            guard components.count >= 2, components[1] == "message" else { return nil }
            return ["$", "output"] + components.dropFirst(2)
        }
        guard !paths.isEmpty, var value = try? JSONSerialization.jsonObject(with: Data(line)) else { return line }
        for path in paths { value = Redaction.redact(value, path: path) }
        return Array(try JSONSerialization.data(withJSONObject: value, options: [.withoutEscapingSlashes]))
    }
}

enum Redaction {
    /// `value` with whatever `path` (components after `$`) reaches replaced by "[redacted]".
    static func redact(_ value: Any, path: [String]) -> Any {
        redact(value, remaining: path.first == "$" ? Array(path.dropFirst()) : path)
    }

    private static func redact(_ value: Any, remaining: [String]) -> Any {
        guard let head = remaining.first else { return "[redacted]" }
        let rest = Array(remaining.dropFirst())
        if var object = value as? [String: Any] {
            let key = head.hasPrefix("[\"") ? String(head.dropFirst(2).dropLast(2)) : head
            for candidate in object.keys where key == "*" || candidate == key {
                object[candidate] = redact(object[candidate]!, remaining: rest)
            }
            return object
        }
        if var array = value as? [Any], head.hasPrefix("[") {
            let inner = head.dropFirst().dropLast()
            for index in array.indices where inner == "*" || Int(inner) == index {
                array[index] = redact(array[index], remaining: rest)
            }
            return array
        }
        return value
    }
}
