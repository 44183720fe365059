import Foundation
import SluiceCore
import SluiceRuntime
import SluiceTesting

/// The recordings Studio can run slices of: the `.ndjson` files `sluice record` and `sluice serve
/// --record` write (``RecordingWriter``: `{"input": …, "results": […]}` per line), in the folders
/// the service was given (`sluice studio DIR`: `DIR/recordings` and `--recordings`; `sluice serve`:
/// `--studio-recordings` and its own `--record` folder).
///
/// A recording is the files of one name: `<name>-0001.ndjson`, `-0002`, … (rotated by size; read
/// in order), or a lone `<name>.ndjson`. The page names a recording by its id, `<n>:<name>` (`n`
/// the folder's place in ``folders``, from 1), and only ids this listing made are ever opened: no
/// path from a request is read, and a file whose real path lies outside its folder (a symbolic
/// link out of it) is not a recording.
public struct StudioRecordings: Sendable {
    /// The most events one slice runs: Studio is for looking at events one by one; a whole
    /// recording is `sluice replay`'s job.
    public static let maximumSlice = 1000

    /// The folders, as configured (duplicates removed).
    public let folders: [String]

    public init(folders: [String]) {
        var seen = Set<String>()
        self.folders = folders.map { $0.count > 1 && $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
            .filter { !$0.isEmpty && seen.insert(($0 as NSString).standardizingPath).inserted }
    }

    /// One recording: its id, name, folder and files (full paths, in order).
    public struct Recording: Sendable, Equatable {
        public var id: String
        public var name: String
        public var folder: String
        public var files: [String]
    }

    /// Every recording of every folder, by folder then name. A folder that does not exist has none.
    public func recordings() -> [Recording] {
        var found: [Recording] = []
        for (index, folder) in folders.enumerated() {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            let root = Self.realPath(folder)
            var groups: [String: [String]] = [:]
            for file in names where file.hasSuffix(".ndjson") && !file.hasPrefix(".") {
                let path = folder + "/" + file
                // Regular files inside the folder only: a link that leads out of it is not read.
                guard let root, let real = Self.realPath(path), real.hasPrefix(root + "/"),
                      (try? FileManager.default.attributesOfItem(atPath: real)[.type] as? FileAttributeType) == .typeRegular else { continue }
                groups[Self.recordingName(file), default: []].append(file)
            }
            for name in groups.keys.sorted() {
                found.append(Recording(id: "\(index + 1):\(name)", name: name, folder: folder,
                                       files: groups[name]!.sorted().map { folder + "/" + $0 }))
            }
        }
        return found
    }

    /// `order-to-products` of `order-to-products-0002.ndjson`; `sample` of `sample.ndjson`.
    static func recordingName(_ file: String) -> String {
        let stem = String(file.dropLast(".ndjson".count))
        guard let dash = stem.lastIndex(of: "-") else { return stem }
        let number = stem[stem.index(after: dash)...]
        return number.count >= 4 && number.allSatisfy { ("0"..."9").contains($0) } && dash > stem.startIndex ? String(stem[..<dash]) : stem
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    // MARK: - Listing

    /// What the page lists of a recording: its files with their sizes and event counts, the
    /// first and last events' timestamps (recordings are written in arrival order), when it was
    /// last written to, and — from `transformation`, given its name — the transformation it
    /// records (a `sluice record` file is named after the transformation, a `serve --record` file
    /// after the version id).
    public func listing(transformation: (String) async -> String?) async -> [String: Any] {
        var items: [[String: Any]] = []
        for recording in recordings() {
            var files: [[String: Any]] = []
            var events = 0, bytes = 0
            var first: String?, last: String?
            var modified: Date?
            for path in recording.files {
                let summary = Self.summary(of: path)
                files.append(["name": (path as NSString).lastPathComponent, "bytes": summary.bytes, "events": summary.events])
                events += summary.events
                bytes += summary.bytes
                if first == nil { first = summary.firstTimestamp }
                if let found = summary.lastTimestamp { last = found }
                if let date = summary.modified { modified = max(modified ?? date, date) }
            }
            var item: [String: Any] = ["id": recording.id, "name": recording.name, "folder": recording.folder, "files": files,
                                       "events": events, "bytes": bytes, "firstTimestamp": first ?? NSNull(), "lastTimestamp": last ?? NSNull(),
                                       "transformation": await transformation(recording.name) ?? NSNull()]
            if let modified { item["modified"] = ISO8601DateFormatter().string(from: modified) }
            items.append(item)
        }
        let folders = self.folders.map { folder -> [String: Any] in
            var directory: ObjCBool = false
            return ["path": folder, "exists": FileManager.default.fileExists(atPath: folder, isDirectory: &directory) && directory.boolValue]
        }
        return ["recordings": items, "folders": folders, "maximumSlice": Self.maximumSlice]
    }

    /// What the listing says of one file.
    struct FileSummary: Sendable {
        var bytes = 0
        var events = 0
        var firstTimestamp: String?
        var lastTimestamp: String?
        var modified: Date?
    }

    /// Summaries by path, kept while the file's size and modification time stay the same: a
    /// listing reads again only the files written to since the last one (a `serve --record`
    /// file grows; a finished recording is read once).
    final class SummaryCache: @unchecked Sendable {
        // @unchecked: `entries` is guarded by `lock`.
        private let lock = NSLock()
        private var entries: [String: FileSummary] = [:]

        func summary(of path: String, _ make: () -> FileSummary) -> FileSummary {
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            let size = (attributes?[.size] as? NSNumber)?.intValue ?? -1
            let modified = attributes?[.modificationDate] as? Date
            if let kept = lock.withLock({ entries[path] }), kept.bytes == size, kept.modified == modified { return kept }
            var made = make()
            made.modified = modified
            lock.withLock {
                if entries.count >= 10_000 { entries.removeAll() }
                entries[path] = made
            }
            return made
        }
    }

    static let summaries = SummaryCache()

    static func summary(of path: String) -> FileSummary {
        summaries.summary(of: path) {
            let scan = Self.scan(path)
            return FileSummary(bytes: scan.bytes, events: scan.lines, firstTimestamp: scan.firstLine.flatMap { Self.timestamp(ofLine: $0) },
                               lastTimestamp: scan.lastLine.flatMap { Self.timestamp(ofLine: $0) })
        }
    }

    /// A file's size, its number of lines that are not blank, and its first and last such lines
    /// (each read only when under 1 MB): one pass, a megabyte at a time.
    static func scan(_ path: String) -> (bytes: Int, lines: Int, firstLine: [UInt8]?, lastLine: [UInt8]?) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return (0, 0, nil, nil) }
        defer { try? handle.close() }
        let cap = 1 << 20
        var offset = 0, lines = 0
        var current: [UInt8] = []  // the line being read, while under the cap
        var currentBlank = true, currentTooLong = false
        var firstLine: [UInt8]?, lastLine: [UInt8]?
        func endLine() {
            if !currentBlank {
                lines += 1
                let line = currentTooLong ? nil : current
                if lines == 1 { firstLine = line }
                lastLine = line
            }
            current.removeAll(keepingCapacity: true)
            currentBlank = true
            currentTooLong = false
        }
        func append(_ buffer: UnsafeRawBufferPointer, _ from: Int, _ to: Int) {
            guard from < to else { return }
            if currentBlank, buffer[from..<to].contains(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }) { currentBlank = false }
            if currentTooLong { return }
            if current.count + (to - from) > cap {
                currentTooLong = true
                current.removeAll()
            } else {
                current += buffer[from..<to]
            }
        }
        while let chunk = try? handle.read(upToCount: cap), !chunk.isEmpty {
            chunk.withUnsafeBytes { buffer in
                var start = 0
                for index in 0..<buffer.count where buffer[index] == 0x0A {
                    append(buffer, start, index)
                    endLine()
                    start = index + 1
                }
                append(buffer, start, buffer.count)
            }
            offset += chunk.count
        }
        endLine()
        return (offset, lines, firstLine, lastLine)
    }

    /// The event's own time, for the listing: `timestamp`, else `originalTimestamp`, `sentAt` or
    /// `receivedAt`, of the recorded input's `message` (or of the input, a bare event).
    static func timestamp(ofLine line: [UInt8]) -> String? {
        guard let parts = RecordingLine.split(line), let event = Self.event(parts.input) else { return nil }
        return ["timestamp", "originalTimestamp", "sentAt", "receivedAt"].lazy.compactMap { event[$0] as? String }.first
    }

    /// The event of a recorded input: its `message` (the service's `{message, metadata}`), or
    /// the input itself (a bare event given to `sluice record`).
    static func event(_ input: [UInt8]) -> [String: Any]? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(input))) as? [String: Any] else { return nil }
        return object["message"] as? [String: Any] ?? object
    }

    // MARK: - Slices

    /// What the page asks for: events `offset ..< offset + count` of a recording (of those whose
    /// `type` is `type`, when given), compared ignoring `ignore` paths (as `sluice replay --ignore`).
    public struct SliceRequest: Sendable, Equatable {
        public var recording: String
        public var offset = 0
        public var count = 20
        public var type: String?
        public var ignore: [String] = []

        public init(recording: String, offset: Int = 0, count: Int = 20, type: String? = nil, ignore: [String] = []) {
            self.recording = recording
            self.offset = offset
            self.count = count
            self.type = type
            self.ignore = ignore
        }

        /// The request's `recording`, `offset`, `count`, `type` and `ignore`, or the problem with them.
        public static func parse(_ object: [String: Any]) -> Result<SliceRequest, StudioProblem> {
            guard let recording = object["recording"] as? String, !recording.isEmpty else {
                return .failure(StudioProblem(400, "recording must be a recording's id (GET /studio/api/recordings lists them)"))
            }
            var request = SliceRequest(recording: recording)
            for (key, minimum) in [("offset", 0), ("count", 1)] {
                guard let value = object[key], !(value is NSNull) else { continue }
                guard let number = value as? Int, number >= minimum else {
                    return .failure(StudioProblem(400, "\(key) must be a whole number ≥ \(minimum)"))
                }
                if key == "offset" { request.offset = number } else { request.count = number }
            }
            guard request.count <= StudioRecordings.maximumSlice else {
                return .failure(StudioProblem(400, "count \(request.count) is above Studio's slice limit of \(StudioRecordings.maximumSlice) events: run a smaller slice, or the whole recording with sluice replay"))
            }
            if let type = object["type"], !(type is NSNull) {
                guard let text = type as? String else { return .failure(StudioProblem(400, "type must be an event type such as track")) }
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                request.type = trimmed.isEmpty ? nil : trimmed
            }
            if let ignore = object["ignore"], !(ignore is NSNull) {
                guard let paths = ignore as? [String], paths.allSatisfy({ $0.hasPrefix("$") }) else {
                    return .failure(StudioProblem(400, "ignore must be a list of result paths starting with $, e.g. $[*].output.receivedAt"))
                }
                request.ignore = paths
            }
            return .success(request)
        }
    }

    /// Events read from a recording for one run.
    public struct Slice: Sendable {
        public struct Event: Sendable {
            /// The recording file's name and the line the event is on.
            public var file: String
            public var line: Int
            public var input: [UInt8]
            /// The recorded result lines.
            public var recorded: [[UInt8]]
        }

        /// A line in the slice that is not a recording, or an input that is not JSON.
        public struct Unreadable: Sendable {
            public var file: String
            public var line: Int
            public var message: String

            public var jsonObject: [String: Any] { ["file": file, "line": line, "message": message] }
        }

        public var recording: Recording
        public var request: SliceRequest
        public var events: [Event] = []
        public var unreadable: [Unreadable] = []

        /// The slice as the answer describes it.
        public var jsonObject: [String: Any] {
            var object: [String: Any] = ["recording": recording.id, "name": recording.name, "offset": request.offset,
                                         "count": request.count, "events": events.count]
            if let type = request.type { object["type"] = type }
            if !request.ignore.isEmpty { object["ignore"] = request.ignore }
            if let first = events.first, let last = events.last {
                object["from"] = ["file": first.file, "line": first.line]
                object["to"] = ["file": last.file, "line": last.line]
            }
            return object
        }
    }

    /// At most this many unreadable lines are listed for one slice: past it the reading stops.
    static let maximumUnreadable = 100

    /// The events `request` names, read from its recording's files in order. A line that is not
    /// a recording (or whose input is not JSON: Studio runs JSON inputs) is listed with its file
    /// and line — as `sluice replay` counts it — when it falls inside the slice, and not run.
    public func slice(_ request: SliceRequest) -> Result<Slice, StudioProblem> {
        guard let recording = recordings().first(where: { $0.id == request.recording }) else {
            let where_ = folders.isEmpty ? "no recordings folder is configured" : "not in \(folders.joined(separator: ", "))"
            return .failure(StudioProblem(404, "no recording \(request.recording): \(where_) (GET /studio/api/recordings lists them)"))
        }
        var slice = Slice(recording: recording, request: request)
        let typeBytes = request.type.map { Array(JSONString.encode($0).utf8) }
        var skipped = 0
        reading: for path in recording.files {
            let file = (path as NSString).lastPathComponent
            let reader: InputReader
            do { reader = try InputReader(path: path) } catch {
                return .failure(StudioProblem(500, "recording \(recording.id): \(error)"))
            }
            while true {
                let record: InputRecord?
                do { record = try reader.next() } catch {
                    return .failure(StudioProblem(500, "recording \(recording.id): \(file): \(error)"))
                }
                guard let record else { break }
                let inWindow = skipped >= request.offset
                func unreadable(_ line: Int, _ message: String) -> Bool {
                    guard inWindow else { return true }
                    slice.unreadable.append(.init(file: file, line: line, message: message))
                    return slice.unreadable.count < Self.maximumUnreadable
                }
                switch record {
                case .malformed(let line, let message):
                    if !unreadable(line, "not JSON: \(message)") { break reading }
                case .item(let item):
                    guard let parts = RecordingLine.split(item.json) else {
                        if !unreadable(item.line, #"not a recording line ({"input": …, "results": […]} from sluice record or serve --record)"#) { break reading }
                        continue
                    }
                    if let type = request.type {
                        // A cheap look for the type's text first; only then the event is parsed.
                        guard let typeBytes, parts.input.firstRange(of: typeBytes) != nil,
                              Self.event(parts.input)?["type"] as? String == type else { continue }
                    }
                    guard skipped >= request.offset else {
                        skipped += 1
                        continue
                    }
                    guard (try? JSONSerialization.jsonObject(with: Data(parts.input), options: [.fragmentsAllowed])) != nil else {
                        if !unreadable(item.line, "its input is not JSON (recorded as text): Studio runs JSON inputs only; sluice replay runs it") { break reading }
                        continue
                    }
                    slice.events.append(.init(file: file, line: item.line, input: parts.input, recorded: parts.results))
                    if slice.events.count == request.count { break reading }
                }
            }
        }
        if slice.events.isEmpty {
            if let first = slice.unreadable.first {
                return .failure(StudioProblem(422, "recording \(recording.id): nothing to run in this slice: \(first.file) line \(first.line) is \(first.message)"))
            }
            let matching = request.type.map { " of type \($0)" } ?? ""
            return .failure(StudioProblem(400, "recording \(recording.id) has \(Wording.counted(skipped, "event"))\(matching): offset \(request.offset) is past its end"))
        }
        return .success(slice)
    }
}

extension StudioWorkspace {
    /// `GET /studio/api/recordings`: the recordings of `recordings`' folders, each with the
    /// transformation it records when the folder or the store knows it.
    public func recordingsListing(_ recordings: StudioRecordings) async -> StudioReply {
        StudioReply.json(200, await recordings.listing { name in await recordedTransformation(name) })
    }

    /// The transformation a recording's name stands for: `sluice record` names files after the
    /// transformation, `serve --record` after the version id (the folder's or the store's).
    func recordedTransformation(_ name: String) async -> String? {
        if let version = registry.version(name) { return version.name }
        return (try? await catalog.resolve(name))?.name
    }

    /// `POST /studio/api/recordings/run`: `{code, language, name?, limits?, recording, offset?,
    /// count?, type?, ignore?}` — the run's plan (as pasted events are planned) and the slice it
    /// runs on, read when it runs; or the problem with the request (naming the field).
    public func planRecording(_ body: [UInt8], recordings: StudioRecordings) async -> Result<StudioRecordingRun, StudioProblem> {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            return .failure(StudioProblem(400, "the body must be a JSON object {code, language, recording, offset?, count?, type?, limits?}"))
        }
        guard object["recording"] != nil else {
            return .failure(StudioProblem(400, "recording must be a recording's id (GET /studio/api/recordings lists them)"))
        }
        let request: StudioRunRequest
        switch StudioRunRequest.parse(body, recording: true) {
        case .failure(let problem): return .failure(problem)
        case .success(let parsed): request = parsed
        }
        let sliceRequest: StudioRecordings.SliceRequest
        switch StudioRecordings.SliceRequest.parse(object) {
        case .failure(let problem): return .failure(problem)
        case .success(let parsed): sliceRequest = parsed
        }
        switch await self.plan(request) {
        case .failure(let problem): return .failure(problem)
        case .success(let plan): return .success(StudioRecordingRun(plan: plan, slice: sliceRequest, recordings: recordings))
        }
    }
}

/// A run on a slice of a recording, ready to execute on an engine thread: reading the slice
/// (which may scan far into a large recording for its offset or type) blocks, as the run does.
public struct StudioRecordingRun: Sendable {
    public var plan: StudioRunPlan
    public var slice: StudioRecordings.SliceRequest
    public var recordings: StudioRecordings

    /// Reads the slice, then runs the plan on it (``StudioRunPlan/execute(on:fetch:)``); or the
    /// problem with the slice (an unknown recording, an offset past its end, no readable line).
    public func execute(on executor: any BatchExecutor, fetch: FetchHandler?) -> StudioReply {
        switch recordings.slice(slice) {
        case .failure(let problem): return problem.reply
        case .success(let read):
            var plan = self.plan
            plan.slice = read
            return plan.execute(on: executor, fetch: fetch)
        }
    }
}
