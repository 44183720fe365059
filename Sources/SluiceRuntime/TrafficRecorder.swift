import Foundation
import SluiceCore
import SluiceRegistry

/// Records a sample of live traffic, one `RecordingWriter` per transformation version, for
/// `sluice replay`. Safe to call from any thread: the service's workers share one recorder.
///
/// Files are `<directory>/<version id>-<n>.ndjson`; a writer's buffer is flushed when it reaches
/// 1 MB, when a second has passed since its last flush, and on `close()`.
public final class TrafficRecorder: @unchecked Sendable {
    // @unchecked: every mutable field is guarded by `lock`.
    public struct Options: Sendable {
        public var directory: String
        /// Fraction of events kept (by a hash of the event, so a given event is always kept or never).
        public var sampleRate = 1.0
        /// Paths redacted in every recorded input (credential values always are).
        public var redact: [String] = []
        /// A new file starts past this size.
        public var maximumFileBytes = 64 << 20

        public init(directory: String) { self.directory = directory }
    }

    public let options: Options
    private let lock = NSLock()
    private var writers: [String: RecordingWriter] = [:]
    private var lastFlush: [String: ContinuousClock.Instant] = [:]
    private var closed = false
    /// Problems met while recording (a full disk, say), kept so the service can report them
    /// without failing the requests being recorded.
    public private(set) var errors: [String] = []

    public init(options: Options) throws {
        self.options = options
        try FileManager.default.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
        guard access(options.directory, W_OK) == 0 else { throw LoadError("\(options.directory): not writable") }
    }

    /// Records the inputs of one batch with their results (matched by `inputIndex`; results that
    /// match no input — new events from `transformBatch` — go with the batch's last input).
    public func record(versionID: String, inputs: [JSONText], results: [EventResult]) {
        guard !inputs.isEmpty else { return }
        let kept = inputs.indices.filter { RecordingWriter.sampled(inputs[$0], rate: options.sampleRate) }
        guard !kept.isEmpty else { return }
        var grouped = [[EventResult]](repeating: [], count: inputs.count)
        for result in results { grouped[min(result.inputIndex ?? inputs.count - 1, inputs.count - 1)].append(result) }
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        do {
            let writer = try self.writer(for: versionID)
            for index in kept { try writer.append(input: inputs[index], results: grouped[index], sampled: true) }
            let now = ContinuousClock.now
            if let last = lastFlush[versionID], now - last < .seconds(1) { return }
            try writer.flush()
            lastFlush[versionID] = now
        } catch {
            if errors.count < 100 { errors.append("recording \(versionID): \(error)") }
        }
    }

    /// Writes what is buffered and closes every file; later `record` calls are ignored.
    public func close() {
        lock.lock()
        defer { lock.unlock() }
        closed = true
        for (versionID, writer) in writers {
            do { try writer.close() } catch { errors.append("recording \(versionID): \(error)") }
        }
    }

    /// The files written so far, by version id.
    public var files: [String: [String]] {
        lock.lock()
        defer { lock.unlock() }
        return writers.mapValues(\.files)
    }

    private func writer(for versionID: String) throws -> RecordingWriter {
        if let writer = writers[versionID] { return writer }
        var settings = RecordingWriter.Options(directory: options.directory, name: Self.fileName(versionID))
        settings.redact = options.redact
        settings.maximumFileBytes = options.maximumFileBytes
        // Sampling is decided above, before taking the lock.
        let writer = try RecordingWriter(options: settings, continuing: true)
        writers[versionID] = writer
        return writer
    }

    /// A version id made safe as a file name (ids come from requests).
    static func fileName(_ versionID: String) -> String {
        let safe = versionID.unicodeScalars.map { scalar -> String in
            scalar.properties.isAlphabetic || ("0"..."9").contains(scalar) || "-_.@".unicodeScalars.contains(scalar)
                ? String(scalar) : "_"
        }.joined()
        let trimmed = String(safe.prefix(120))
        return trimmed.isEmpty || trimmed.hasPrefix(".") ? "v" + trimmed : trimmed
    }
}
