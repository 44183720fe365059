#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import SluiceCore

/// swift-log lines as JSON objects, one per line on standard error, for log shippers:
/// `{"time":"2026-11-21T18:31:12.345Z","level":"warning","label":"sluice","message":"limit hit",
/// "transformation.name":"mask-pii","transformation.version":"sv…","call.outcome":"time_limit","events":"1"}`.
/// Metadata keys are stable (see docs/http.md); a metadata key never overrides `time`, `level`,
/// `label` or `message`.
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
        var line: [UInt8] = Array(#"{"time":"#.utf8)
        JSONString.append(Self.timestamp(), to: &line)
        line += #","level":"#.utf8
        JSONString.append(event.level.rawValue, to: &line)
        line += #","label":"#.utf8
        JSONString.append(label, to: &line)
        line += #","message":"#.utf8
        JSONString.append(event.message.description, to: &line)
        let reserved: Set<String> = ["time", "level", "label", "message"]
        var merged = metadata
        for (key, value) in event.metadata ?? [:] { merged[key] = value }
        for key in merged.keys.sorted() where !reserved.contains(key) {
            line.append(UInt8(ascii: ","))
            JSONString.append(key, to: &line)
            line.append(UInt8(ascii: ":"))
            JSONString.append(merged[key]!.description, to: &line)
        }
        line += "}\n".utf8
        write(line)
    }

    private static func timestamp() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(now.tv_nsec / 1_000_000))
    }
}
