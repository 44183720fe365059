import Foundation
import HTTPTypes
import Hummingbird
import SluiceCore
import SluiceRegistry
import SluiceRuntime

/// The `/v1` routes over `NativeAPI`, and the streaming run by name.
struct NativeRoutes: Sendable {
    let api: NativeAPI
    let pool: EnginePool
    let maximumBodyBytes: Int
    /// Events run per batch while streaming (what rudder-server sends per request).
    static let batchSize = 200

    func add(to router: Router<BasicRequestContext>) {
        let api = self.api
        let cap = maximumBodyBytes
        @Sendable func body(_ request: Request) async throws -> [UInt8]? {
            var request = request
            do {
                return Array(try await request.collectBody(upTo: cap).readableBytesView)
            } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
                return nil
            }
        }
        let tooLarge = SluiceService.response(.error(413, "request body larger than \(cap) bytes"))
        let v1 = router.group("v1")
        v1.get("transformations") { _, _ in SluiceService.response(await api.listTransformations()) }
        v1.post("transformations") { request, _ in
            guard let bytes = try await body(request) else { return tooLarge }
            return SluiceService.response(await api.createTransformation(body: bytes))
        }
        v1.get("transformations/:name") { _, context in
            SluiceService.response(await api.getTransformation(try context.parameters.require("name")))
        }
        v1.put("transformations/:name/code") { request, context in
            guard let bytes = try await body(request) else { return tooLarge }
            return SluiceService.response(await api.putCode(
                name: try context.parameters.require("name"), body: bytes, contentType: request.headers[.contentType]))
        }
        v1.get("transformations/:name/versions") { _, context in
            SluiceService.response(await api.listVersions(name: try context.parameters.require("name")))
        }
        v1.get("transformations/:name/versions/:id") { _, context in
            SluiceService.response(await api.getVersion(name: try context.parameters.require("name"), id: try context.parameters.require("id")))
        }
        v1.post("transformations/:name/versions/:id/publish") { _, context in
            SluiceService.response(await api.publish(name: try context.parameters.require("name"), id: try context.parameters.require("id")))
        }
        v1.post("transformations/:name/run") { request, context in
            try await run(request, name: try context.parameters.require("name"))
        }
        v1.get("libraries") { _, _ in SluiceService.response(await api.listLibraries()) }
        v1.post("libraries") { request, _ in
            guard let bytes = try await body(request) else { return tooLarge }
            return SluiceService.response(await api.createLibrary(body: bytes))
        }
        v1.get("libraries/:name") { _, context in SluiceService.response(await api.getLibrary(try context.parameters.require("name"))) }
        v1.put("libraries/:name/code") { request, context in
            guard let bytes = try await body(request) else { return tooLarge }
            return SluiceService.response(await api.putLibraryCode(
                name: try context.parameters.require("name"), body: bytes, contentType: request.headers[.contentType]))
        }
        v1.get("libraries/:name/versions") { _, context in
            SluiceService.response(await api.listLibraryVersions(name: try context.parameters.require("name")))
        }
        v1.post("libraries/:name/versions/:id/publish") { _, context in
            SluiceService.response(await api.publishLibrary(name: try context.parameters.require("name"), id: try context.parameters.require("id")))
        }
    }

    /// `POST /v1/transformations/{name}/run[?version=ID][&logs=true]`: a JSON array or NDJSON of
    /// events (bare or `{message, metadata}`) in, streamed; NDJSON out, streamed — one line per
    /// result, log lines when asked, and a summary line last. Reading waits while a batch runs, so
    /// memory holds one batch whatever the size of the stream.
    func run(_ request: Request, name: String) async throws -> Response {
        let query = request.uri.queryParameters
        let versionID = query.get("version")
        let withLogs = query.get("logs").map { ["true", "1", "yes"].contains($0.lowercased()) } ?? false
        let version: TransformationVersion
        switch await api.versionToRun(name: name, versionID: versionID) {
        case .run(let found): version = found
        case .refused(let response): return SluiceService.response(response)
        }
        // Compile before the stream starts, so a version that does not compile is a plain 400.
        let check = await pool.perform { worker in
            switch worker.run(version, items: []) {
            case .success: WireResponse(status: 200, body: [])
            case .failure(let failure): .error(400, failure.message)
            }
        }
        guard check.status == 200 else { return SluiceService.response(check) }
        let pool = self.pool
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        headers[HTTPField.Name("X-Sluice-Version")!] = version.id
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var splitter = ItemSplitter()
            var summary = RunSummary()
            var pending: [JSONText] = []
            let start = ContinuousClock.now
            func flush() async throws {
                guard !pending.isEmpty else { return }
                let items = pending
                pending.removeAll(keepingCapacity: true)
                let first = summary.events
                summary.events += items.count
                let lines = await pool.performValue { worker -> [UInt8] in
                    switch worker.run(version, items: items) {
                    case .success(let result): return RunSummary.lines(result, firstIndex: first, logs: withLogs)
                    case .failure(let failure): return RunSummary.failureLines(count: items.count, firstIndex: first, message: failure.message)
                    }
                }
                guard let lines else {
                    throw RunStreamError("all workers busy; the stream stopped after \(first) events")
                }
                summary.count(lines)
                try await writer.write(ByteBuffer(bytes: lines))
            }
            do {
                for try await chunk in request.body {
                    for item in try splitter.feed(bytes: Array(chunk.readableBytesView)) {
                        pending.append(item)
                        if pending.count == Self.batchSize { try await flush() }
                    }
                }
                pending += try splitter.finish()
                try await flush()
            } catch let error as RawJSONError {
                try await flush()
                summary.inputError = error.description
            } catch let error as RunStreamError {
                summary.inputError = error.message
            }
            try await writer.write(ByteBuffer(bytes: summary.line(version: version, elapsed: ContinuousClock.now - start)))
            try await writer.finish(nil)
        })
    }
}

struct RunStreamError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

/// Counts for the summary line of a streamed run, and the result lines themselves.
struct RunSummary {
    var events = 0
    var outputs = 0
    var dropped = 0
    var errors = 0
    var limitHits = 0
    var inputError: String?

    /// One line per result, `{"index": i, …}` then what `sluice run` prints; with `logs`,
    /// `{"log": "…", "index": i}` lines after the batch's results.
    static func lines(_ result: BatchResult, firstIndex: Int, logs: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        for eventResult in result.results {
            bytes += #"{"index":"#.utf8
            bytes += eventResult.inputIndex.map { String(firstIndex + $0) }.map { Array($0.utf8) } ?? Array("null".utf8)
            var line: [UInt8] = []
            ResultLine.append(eventResult, to: &line)
            if case .failed(let failure) = eventResult.outcome {
                line.removeLast()
                line += #","kind":"#.utf8
                JSONString.append(failure.kind.name, to: &line)
                line.append(UInt8(ascii: "}"))
            }
            bytes.append(UInt8(ascii: ","))
            bytes += line.dropFirst()
            bytes.append(0x0A)
        }
        if logs {
            for log in result.logs {
                bytes += #"{"log":"#.utf8
                JSONString.append(log.text, to: &bytes)
                bytes += #","index":"#.utf8
                bytes += (log.inputIndex.map { String(firstIndex + $0) } ?? "null").utf8
                bytes += "}\n".utf8
            }
        }
        return bytes
    }

    static func failureLines(count: Int, firstIndex: Int, message: String) -> [UInt8] {
        var bytes: [UInt8] = []
        for index in 0..<count {
            bytes += #"{"index":\#(firstIndex + index),"error":"#.utf8
            JSONString.append(message, to: &bytes)
            bytes += #","kind":"compile","metadata":{}}"#.utf8
            bytes.append(0x0A)
        }
        return bytes
    }

    /// Counts the outcomes in result lines (each line starts `{"index":N,"output"`, `…"dropped"`
    /// or `…"error"`; log lines start `{"log"`).
    mutating func count(_ lines: [UInt8]) {
        var start = 0
        while start < lines.count {
            let end = lines[start...].firstIndex(of: 0x0A) ?? lines.count
            let line = lines[start..<end]
            if line.starts(with: Array(#"{"index":"#.utf8)), let comma = line.firstIndex(of: UInt8(ascii: ",")) {
                let rest = line[(comma + 1)...]
                if rest.starts(with: Array(#""output""#.utf8)) { outputs += 1 }
                else if rest.starts(with: Array(#""dropped""#.utf8)) { dropped += 1 }
                else if rest.starts(with: Array(#""error""#.utf8)) {
                    errors += 1
                    if line.firstRange(of: Array(#""kind":"time_limit""#.utf8)) != nil || line.firstRange(of: Array(#""kind":"memory_limit""#.utf8)) != nil {
                        limitHits += 1
                    }
                }
            }
            start = end + 1
        }
    }

    func line(version: TransformationVersion, elapsed: Duration) -> [UInt8] {
        let milliseconds = elapsed.millisecondsValue
        var bytes = Array(#"{"summary":{"transformation":"#.utf8)
        JSONString.append(version.name, to: &bytes)
        bytes += #","version":"#.utf8
        JSONString.append(version.id, to: &bytes)
        bytes += #","events":\#(events),"outputs":\#(outputs),"dropped":\#(dropped),"errors":\#(errors),"limitHits":\#(limitHits)"#.utf8
        bytes += #","milliseconds":"#.utf8
        bytes += String(format: "%.1f", milliseconds).utf8
        if let inputError {
            bytes += #","inputError":"#.utf8
            JSONString.append(inputError, to: &bytes)
        }
        bytes += "}}\n".utf8
        return bytes
    }
}
