#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SluiceCore

/// swift-log lines as JSON objects, one per line on standard error, for log shippers:
/// `{"time":"2026-11-21T18:31:12.345Z","level":"warning","label":"sluice","message":"limit hit",
/// "transformation.name":"mask-pii","transformation.version":"sv…","call.outcome":"time_limit","events":1}`.
/// Metadata keys are stable (see docs/http.md); a metadata key never overrides `time`, `level`,
/// `label` or `message`. Values keep their types: a `.stringConvertible` integer or floating-point
/// number is a JSON number, a boolean a JSON boolean, `.array` and `.dictionary` JSON arrays and
/// objects; everything else is a string.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info
    public let label: String
    private let write: @Sendable ([UInt8]) -> Void

    public init(label: String, write: @escaping @Sendable ([UInt8]) -> Void = { bytes in
        // One write(2) per line: lines from several threads never interleave.
        bytes.withUnsafeBufferPointer { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }) {
        self.label = label
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = JSONLogLine.opening(level: event.level.rawValue, label: label, message: event.message.description)
        let reserved: Set<String> = ["time", "level", "label", "message"]
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        for key in merged.keys.sorted() where !reserved.contains(key) {
            line.append(UInt8(ascii: ","))
            JSONString.append(key, to: &line)
            line.append(UInt8(ascii: ":"))
            Self.append(merged[key]!, to: &line)
        }
        line += "}\n".utf8
        write(line)
    }

    /// A metadata value as JSON, typed (see the type's documentation).
    static func append(_ value: Logger.MetadataValue, to line: inout [UInt8]) {
        switch value {
        case .string(let text):
            JSONString.append(text, to: &line)
        case .stringConvertible(let convertible):
            switch convertible {
            case let flag as Bool: line += (flag ? "true" : "false").utf8
            case let number as any BinaryInteger: line += "\(number)".utf8
            case let number as Double where number.isFinite: line += "\(number)".utf8
            case let number as Float where number.isFinite: line += "\(number)".utf8
            default: JSONString.append(convertible.description, to: &line)
            }
        case .array(let values):
            line.append(UInt8(ascii: "["))
            for (index, element) in values.enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                append(element, to: &line)
            }
            line.append(UInt8(ascii: "]"))
        case .dictionary(let members):
            line.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { line.append(UInt8(ascii: ",")) }
                JSONString.append(key, to: &line)
                line.append(UInt8(ascii: ":"))
                append(members[key]!, to: &line)
            }
            line.append(UInt8(ascii: "}"))
        }
    }

}
