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
    let breaker: CircuitBreaker
    let maximumBodyBytes: Int
    /// Events run per batch while streaming (what rudder-server sends per request).
    static let batchSize = 200

    func add(to router: Router<BasicRequestContext>) {
        let api = self.api
        let cap = maximumBodyBytes
        @Sendable func body(_ request: Request) async throws -> [UInt8]? {
            try await SluiceService.collectBody(request, upTo: cap)
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
        // The circuit breakers of versions that are not healthy, and an operator's reset.
        let breaker = self.breaker
        v1.get("breakers") { _, _ in
            SluiceService.json(200, Array(#"{"breakers":"#.utf8) + SluiceService.breakerJSON(breaker.statuses) + [UInt8(ascii: "}")])
        }
        v1.delete("breakers/:version") { _, context in
            let version = try context.parameters.require("version")
            guard breaker.reset(version: version) else {
                return SluiceService.response(.error(404, "version \(version) has no breaker open (it is healthy)"))
            }
            return SluiceService.json(200, Array(#"{"version":"#.utf8) + Array(JSONString.encode(version).utf8) + Array(#","state":"healthy"}"#.utf8))
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
            case .ran: WireResponse(status: 200, body: [])
            case .failed(let failure): .error(failure.kind.responseStatus, failure.message)
            }
        }
        guard check.status == 200 else { return SluiceService.response(check) }
        let pool = self.pool
        pool.metrics?.v1Run(transformation: version.name)
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
                let batch = await pool.performValue { worker -> RunSummary.Batch in
                    switch worker.run(version, items: items) {
                    case .ran(let result): return RunSummary.lines(result, firstIndex: first, logs: withLogs)
                    case .failed(let failure): return RunSummary.failureLines(count: items.count, firstIndex: first, failure: failure)
                    }
                }
                guard let batch else {
                    throw RunStreamError("all workers busy; the stream stopped after \(first) events")
                }
                summary.add(batch)
                try await writer.write(ByteBuffer(bytes: batch.lines))
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
    var outcomes = OutcomeTally()
    var inputError: String?

    /// One batch's result lines and its tally (taken from the results, not re-read from the lines).
    struct Batch: Sendable {
        var lines: [UInt8] = []
        var outcomes = OutcomeTally()
    }

    mutating func add(_ batch: Batch) {
        outcomes.add(batch.outcomes)
    }

    /// One line per result, `{"index": i, …}` then what `sluice run` prints; with `logs`,
    /// `{"log": "…", "index": i}` lines after the batch's results.
    static func lines(_ result: BatchResult, firstIndex: Int, logs: Bool) -> Batch {
        var batch = Batch()
        for eventResult in result.results {
            batch.outcomes.add(eventResult.outcome)
            append(eventResult, index: eventResult.inputIndex.map { firstIndex + $0 }, to: &batch.lines)
        }
        if logs {
            for log in result.logs {
                batch.lines += #"{"log":"#.utf8
                JSONString.append(log.text, to: &batch.lines)
                batch.lines += #","index":"#.utf8
                batch.lines += (log.inputIndex.map { String(firstIndex + $0) } ?? "null").utf8
                batch.lines += "}\n".utf8
            }
        }
        return batch
    }

    /// Every event of a batch failed for one reason (`compile`, `worker_lost`, …: the kind says
    /// whether retrying the events may succeed).
    static func failureLines(count: Int, firstIndex: Int, failure: Failure) -> Batch {
        var batch = Batch()
        for index in 0..<count {
            let eventResult = EventResult(inputIndex: index, outcome: .failed(failure), metadata: Array("{}".utf8))
            batch.outcomes.add(eventResult.outcome)
            append(eventResult, index: firstIndex + index, to: &batch.lines)
        }
        return batch
    }

    /// `{"index": i, …}`: the result's ``ResultLine`` with its index first, and a newline.
    private static func append(_ eventResult: EventResult, index: Int?, to lines: inout [UInt8]) {
        lines += #"{"index":"#.utf8
        lines += (index.map(String.init) ?? "null").utf8
        var line: [UInt8] = []
        ResultLine.append(eventResult, to: &line)
        lines.append(UInt8(ascii: ","))
        lines += line.dropFirst()
        lines.append(0x0A)
    }

    func line(version: TransformationVersion, elapsed: Duration) -> [UInt8] {
        let milliseconds = elapsed.millisecondsValue
        var bytes = Array(#"{"summary":{"transformation":"#.utf8)
        JSONString.append(version.name, to: &bytes)
        bytes += #","version":"#.utf8
        JSONString.append(version.id, to: &bytes)
        bytes += #","events":\#(events),"outputs":\#(outcomes.outputs),"dropped":\#(outcomes.dropped),"errors":\#(outcomes.failed),"limitHits":\#(outcomes.limitHits)"#.utf8
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
