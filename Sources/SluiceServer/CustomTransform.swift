import Foundation
import Logging
import SluiceCore
import SluiceRuntime
import SluiceSandbox

/// What the code source knows about a transformation version (CONTRACT.md §2.1).
public enum VersionResolution: Sendable {
    /// Compiled and ready to run, under `limits` when given (the version's own), else the
    /// handler's; `id` is the version's content id (for metrics and logs; default: the name).
    case compiled(any CompiledTransformation, limits: Limits? = nil, id: String? = nil)
    /// Ready to run in a worker process (which compiles it the first time), under `limits`.
    case isolated(Program, limits: Limits)
    /// No such version: every event of the group gets a 404 item with this message.
    case notFound(String)
    /// The version exists but cannot run (a compile error, a bad import): every event gets a 400
    /// item with this message.
    case failed(String)
    /// The code source failed transiently (a config backend's 5xx, unreachable): every event gets
    /// an 809 item and the response status is 809, so the caller retries the whole request.
    case transient(String)
}

/// Finds (and compiles, or takes from a cache) the transformation version a group names.
public protocol VersionResolver: Sendable {
    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution
}

/// A response of the data-plane API: status, body and the headers rudder-server relies on.
public struct WireResponse: Sendable {
    public var status: Int
    public var body: [UInt8]
    public var headers: [(name: String, value: String)]
    /// Time spent in the engine for this request (the rest of the handling is the service's
    /// overhead: parsing, grouping, mapping).
    public var engineTime: Duration = .zero
    /// Time spent validating and splitting the request body (part of the overhead).
    public var parseTime: Duration = .zero

    public init(status: Int, body: [UInt8], headers: [(name: String, value: String)] = []) {
        self.status = status
        self.body = body
        self.headers = headers
    }

    /// `{"error": message}` with the given status.
    public static func error(_ status: Int, _ message: String) -> WireResponse {
        var body = Array(#"{"error":"#.utf8)
        JSONString.append(message, to: &body)
        body.append(UInt8(ascii: "}"))
        return WireResponse(status: status, body: body)
    }
}

/// `POST /customTransform`, rudder-transformer compatible (CONTRACT.md §2.1), independent of the
/// HTTP library: request bytes in, response out. Event bodies stay raw JSON until the engine.
///
/// Where rudder-transformer answers badly, Sluice answers correctly: an empty array gets `[]`
/// (HTTP 200), a missing `metadata` is treated as `{}`, and several source/destination groups
/// in one request each get their own items exactly once.
public struct CustomTransformHandler: Sendable {
    public let runtime: Runtime
    public let resolver: any VersionResolver
    public let limits: Limits
    /// When set, a sample of the traffic (inputs with their results) is recorded per version.
    public let recorder: TrafficRecorder?
    public let metrics: ServiceMetrics?
    public let logger: Logger?
    /// Runs ``VersionResolution/isolated(_:limits:)`` versions.
    public let pool: WorkerPool?
    /// Performs user code's fetches when it runs in this process (worker processes use the
    /// pool's); nil: fetch is unavailable.
    public var fetch: FetchHandler?
    /// Fetches one invocation may make.
    public var fetchCallsPerInvocation = FetchLimits().callsPerInvocation
    /// The circuit breaker per version; nil: every batch runs.
    public var breaker: CircuitBreaker?

    public init(runtime: Runtime, resolver: any VersionResolver, limits: Limits = .defaults, recorder: TrafficRecorder? = nil,
                metrics: ServiceMetrics? = nil, logger: Logger? = nil, pool: WorkerPool? = nil) {
        self.pool = pool
        self.runtime = runtime
        self.resolver = resolver
        self.limits = limits
        self.recorder = recorder
        self.metrics = metrics
        self.logger = logger
    }

    /// One input of the request, as the grouping needs it.
    struct Input {
        var envelope: JSONText
        var metadata: JSONText
        var groupKey: [UInt8]
        /// Where the item's `destination`, `libraries` and `credentials` are in the body: read
        /// only for a group's first item, whose version and credentials the group uses.
        var destination: Range<Int>?
        var libraries: Range<Int>?
        var credentials: Range<Int>?
    }

    /// Handles one request body. `filterCode` is true when the request carries
    /// `X-Feature-Filter-Code: ?1` (dropped events then get 298 items).
    public func handle(body: [UInt8], filterCode: Bool) -> WireResponse {
        let inputs: [Input]
        let parseStart = ContinuousClock.now
        do {
            inputs = try Self.parse(body)
        } catch let error as RawJSONError {
            return .error(400, error.description)
        } catch {
            return .error(400, "\(error)")
        }
        let parseTime = ContinuousClock.now - parseStart
        var groups: [(key: [UInt8], indices: [Int])] = []
        var groupOfKey: [[UInt8]: Int] = [:]
        for (index, input) in inputs.enumerated() {
            if let group = groupOfKey[input.groupKey] {
                groups[group].indices.append(index)
            } else {
                groupOfKey[input.groupKey] = groups.count
                groups.append((input.groupKey, [index]))
            }
        }
        var response = ResponseBuffer(capacity: body.count + body.count / 4 + 64)
        var transient = false
        var engineTime = Duration.zero
        for group in groups {
            let members = group.indices.map { inputs[$0] }
            transient = run(members, body: body, filterCode: filterCode, into: &response, engineTime: &engineTime) || transient
        }
        var wire = WireResponse(status: transient ? 809 : 200, body: response.finished(), headers: [("apiVersion", "2")])
        wire.engineTime = engineTime
        wire.parseTime = parseTime
        return wire
    }

    /// The response array, written item by item (no per-item buffers).
    struct ResponseBuffer {
        var bytes: [UInt8]
        var empty = true

        init(capacity: Int) {
            bytes = [UInt8(ascii: "[")]
            bytes.reserveCapacity(capacity)
        }

        /// Starts an item: a separator when needed, then `prefix`.
        mutating func begin(_ prefix: StaticString) {
            if !empty { bytes.append(UInt8(ascii: ",")) }
            empty = false
            prefix.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func append(_ text: StaticString) {
            text.withUTF8Buffer { bytes.append(contentsOf: $0) }
        }

        mutating func error(status: Int, _ message: String, metadata: JSONText) {
            begin(#"{"statusCode":"#)
            bytes += String(status).utf8
            append(#","error":"#)
            JSONString.append(message, to: &bytes)
            append(#","metadata":"#)
            bytes += metadata
            bytes.append(UInt8(ascii: "}"))
        }

        mutating func finished() -> [UInt8] {
            bytes.append(UInt8(ascii: "]"))
            return bytes
        }
    }

    /// Runs one source/destination group and appends its items; true when the code source
    /// failed transiently.
    private func run(_ group: [Input], body: [UInt8], filterCode: Bool, into response: inout ResponseBuffer, engineTime: inout Duration) -> Bool {
        guard let versionID = group[0].destination.flatMap({ Self.versionID(body, $0) }), !versionID.isEmpty else {
            response.error(status: 400, "Transformation VersionID not found", metadata: group[0].metadata)
            metrics?.unresolved(status: 400, events: group.count)
            return false
        }
        let name: String
        let contentID: String
        let execute: (Batch) -> WorkerPool.Execution
        let libraryVersionIDs = group[0].libraries.flatMap { Self.libraryVersionIDs(body, $0) } ?? []
        switch resolver.resolve(versionID: versionID, libraryVersionIDs: libraryVersionIDs) {
        case .compiled(let compiled, let versionLimits, let id):
            let limits = versionLimits ?? self.limits
            name = compiled.source.name
            contentID = id ?? compiled.source.name
            execute = { [runtime] batch in .ran(runtime.run(compiled, batch: batch, limits: limits)) }
        case .isolated(let program, let limits):
            guard let pool else { preconditionFailure("an isolated version needs a worker pool") }
            name = program.source.name
            contentID = program.id
            execute = { batch in pool.run(program, batch: batch, limits: limits) }
        case .notFound(let message):
            fail(group, status: 404, message, into: &response)
            return false
        case .failed(let message):
            fail(group, status: 400, message, into: &response)
            logger?.warning("version does not compile", metadata: ["transformation.version": "\(versionID)", "error": "\(message)"])
            return false
        case .transient(let message):
            fail(group, status: 809, message, into: &response)
            logger?.error("code source unavailable", metadata: ["transformation.version": "\(versionID)", "error": "\(message)"])
            return true
        }
        var batch = Self.batch(of: group, body: body)
        batch.fetch = fetch
        batch.fetchCallsPerInvocation = fetchCallsPerInvocation
        let start = ContinuousClock.now
        var probe = false
        var ran = true
        let execution: WorkerPool.Execution
        switch breaker?.admit(version: contentID, transformation: name) ?? .run(probe: false) {
        case .run(let isProbe):
            probe = isProbe
            execution = execute(batch)
        case .disabled(let message):
            // Its events keep ending workers or hitting limits: each gets the reason, at once.
            ran = false
            execution = .ran(BatchResult(results: group.indices.map {
                EventResult(inputIndex: $0, outcome: .failed(Failure(.disabled, message)), metadata: group[$0].metadata)
            }, logs: []))
        }
        let elapsed = ContinuousClock.now - start
        engineTime += elapsed
        let result: BatchResult
        switch execution {
        case .ran(let ran):
            result = Self.redacting(batch.credentialValues, in: ran)
        case .compileFailed(let message):
            fail(group, status: 400, message, into: &response)
            logger?.warning("version does not compile", metadata: ["transformation.version": "\(contentID)", "error": "\(message)"])
            return false
        case .refused(let reason):
            fail(group, status: 400, reason, into: &response)
            logger?.warning("batch refused", metadata: ["transformation.name": "\(name)", "transformation.version": "\(contentID)", "error": "\(reason)"])
            return false
        case .lost(let reason):
            // Nothing of the batch is known to have happened: every event is retryable.
            fail(group, status: 500, reason, into: &response)
            logger?.error("worker lost", metadata: ["transformation.name": "\(name)", "transformation.version": "\(contentID)", "error": "\(reason)"])
            return true
        }
        metrics?.batch(transformation: name, version: contentID, inputs: group.count, result: result, duration: elapsed)
        metrics?.rudderBatch(Self.rudderLabels(group), inputs: group.count, result: result, duration: elapsed)
        if let breaker, ran {
            let limitHits = result.results.reduce(0) { count, eventResult in
                if case .failed(let failure) = eventResult.outcome, failure.kind.isLimit { return count + 1 }
                return count
            }
            breaker.record(version: contentID, transformation: name, events: group.count, limitHits: limitHits,
                           workerEndings: result.workerEndings, probe: probe)
        }
        if let logger { Self.logLimitHits(result, transformation: name, version: contentID, logger: logger) }
        recorder?.record(versionID: versionID, inputs: batch.items, results: result.results)
        // A group's 298 items come first.
        if filterCode {
            for eventResult in result.results {
                guard case .dropped = eventResult.outcome else { continue }
                response.begin(#"{"statusCode":298,"metadata":"#)
                response.bytes += Self.droppedMetadata(eventResult.metadata)
                response.bytes.append(UInt8(ascii: "}"))
            }
        }
        // rudder-transformer's shape for failures that belong to no single event: a whole
        // transformBatch call that threw or returned a non-array is ONE item, and it and a
        // non-object element carry the group's common metadata with every messageId.
        var groupMetadata: JSONText?
        func common() -> JSONText {
            if let groupMetadata { return groupMetadata }
            let made = Self.commonMetadata(group)
            groupMetadata = made
            return made
        }
        var batchFailureSent = false
        for eventResult in result.results {
            switch eventResult.outcome {
            case .failed(let failure) where failure.coversBatch:
                guard !batchFailureSent else { continue }
                batchFailureSent = true
                response.error(status: 400, failure.message, metadata: common())
            case .failed(let failure) where eventResult.inputIndex == nil:
                response.error(status: 400, failure.message, metadata: common())
            case .output(let json):
                response.begin(#"{"output":"#)
                response.bytes += json
                response.append(#","metadata":"#)
                if eventResult.inputIndex == nil {
                    response.bytes += Self.metadataForUnmatchedOutput(json, groupMetadata: group[0].metadata)
                } else {
                    response.bytes += eventResult.metadata
                }
                response.append(#","statusCode":200}"#)
            case .dropped:
                continue
            case .failed(let failure):
                response.error(status: 400, failure.message, metadata: eventResult.metadata)
            }
        }
        return false
    }

    /// The group's batch: its envelopes, the first credentials any of its events carries as the
    /// request's, and the credentials of each event that carries its own.
    static func batch(of group: [Input], body: [UInt8]) -> Batch {
        var batch = Batch(items: group.map(\.envelope))
        // Each envelope ends with its metadata text (see `parse`).
        batch.metadataTexts = group.map(\.metadata)
        var requestCredentials: [String: String]?
        for (index, input) in group.enumerated() {
            guard let range = input.credentials else { continue }
            let credentials = credentialMap(body, range)
            if requestCredentials == nil {
                requestCredentials = credentials
                batch.credentials = credentials
            } else if credentials != requestCredentials {
                batch.eventCredentials[index] = credentials
            }
        }
        return batch
    }

    /// `result` with every credential value (of four characters or more) in failure messages and
    /// log lines replaced by `[redacted]`: user code that puts a secret into an error or a log
    /// line does not leak it into responses, logs or recordings. Outputs are the user's data and
    /// stay as they are.
    static func redacting(_ secrets: [String], in result: BatchResult) -> BatchResult {
        let secrets = Set(secrets.filter { $0.count >= 4 }).sorted { $0.count > $1.count }
        guard !secrets.isEmpty else { return result }
        func redact(_ text: String) -> String {
            var text = text
            for secret in secrets where text.contains(secret) { text = text.replacingOccurrences(of: secret, with: "[redacted]") }
            return text
        }
        var redacted = result
        for index in redacted.results.indices {
            if case .failed(var failure) = redacted.results[index].outcome {
                failure.message = redact(failure.message)
                redacted.results[index].outcome = .failed(failure)
            }
        }
        for index in redacted.logs.indices { redacted.logs[index].text = redact(redacted.logs[index].text) }
        return redacted
    }

    /// Every event of the group gets an error item with `status` and `message`, counted as unresolved.
    private func fail(_ group: [Input], status: Int, _ message: String, into response: inout ResponseBuffer) {
        for input in group { response.error(status: status, message, metadata: input.metadata) }
        metrics?.unresolved(status: status, events: group.count)
        metrics?.rudderUnresolved(Self.rudderLabels(group), status: status, events: group.count)
    }

    /// One warning per batch that hit a limit, with the count of each kind.
    static func logLimitHits(_ result: BatchResult, transformation: String, version: String, logger: Logger) {
        var hits: [String: Int] = [:]
        for eventResult in result.results {
            if case .failed(let failure) = eventResult.outcome, failure.kind.isLimit { hits[failure.kind.name, default: 0] += 1 }
        }
        for (kind, count) in hits.sorted(by: { $0.key < $1.key }) {
            logger.warning("limit hit", metadata: [
                "transformation.name": "\(transformation)", "transformation.version": "\(version)",
                "call.outcome": "\(kind)", "events": "\(count)",
            ])
        }
    }

    // MARK: - Request parsing

    static func parse(_ body: [UInt8]) throws -> [Input] {
        let elements = try RawJSON.arrayOfObjects(body)
        var inputs: [Input] = []
        inputs.reserveCapacity(elements.count)
        for (position, element) in elements.enumerated() {
            let range = element.range
            guard let members = element.members else {
                throw RawJSONError(offset: range.lowerBound, reason: "item \(position) is not an object")
            }
            var message: Range<Int>?
            var metadata: Range<Int>?
            var destination: Range<Int>?
            var libraries: Range<Int>?
            var credentials: Range<Int>?
            for member in members {
                switch member.key {
                case "message": message = member.value
                case "metadata": metadata = member.value
                case "destination": destination = member.value
                case "libraries": libraries = member.value
                case "credentials": credentials = member.value
                default: break
                }
            }
            guard let message, body[message.lowerBound] == UInt8(ascii: "{") else {
                throw RawJSONError(offset: message?.lowerBound ?? range.lowerBound, reason: "item \(position): \"message\" must be an object")
            }
            var metadataText: JSONText = Array("{}".utf8)
            var groupKey: [UInt8] = [1]
            if let metadata, let ids = RawJSON.values(of: groupKeys, in: metadata, of: body) {
                metadataText = Array(body[metadata])
                // The ids' JSON text, so a number and a string stay apart ("1" vs 1); a string with
                // escapes is decoded and re-encoded, so "a" and "\u0061" are one group.
                func text(_ range: Range<Int>?) -> ArraySlice<UInt8> {
                    guard let range else { return [] }
                    let raw = body[range]
                    guard raw.contains(UInt8(ascii: "\\")), let decoded = RawJSON.string(body, range) else { return raw }
                    return ArraySlice(JSONString.encode(decoded).utf8)
                }
                groupKey = Array(text(ids[0]))
                groupKey.append(1)
                groupKey += text(ids[1])
            }
            // Only the parts the engine reads: the event and its metadata.
            var envelope: [UInt8] = []
            envelope.reserveCapacity(message.count + metadataText.count + 24)
            envelope += #"{"message":"#.utf8
            envelope += body[message]
            envelope += #","metadata":"#.utf8
            envelope += metadataText
            envelope.append(UInt8(ascii: "}"))
            inputs.append(Input(
                envelope: envelope, metadata: metadataText, groupKey: groupKey,
                destination: destination, libraries: libraries, credentials: credentials
            ))
        }
        return inputs
    }

    private static let groupKeys = [Array("destinationId".utf8), Array("sourceId".utf8)]
    private static let transformationsKey = [Array("Transformations".utf8)]
    private static let versionIDKey = [Array("VersionID".utf8)]

    /// `destination.Transformations[0].VersionID`.
    private static func versionID(_ body: [UInt8], _ destination: Range<Int>) -> String? {
        guard let transformations = RawJSON.values(of: transformationsKey, in: destination, of: body)?[0],
              let first = RawJSON.elements(body, transformations)?.first,
              let id = RawJSON.values(of: versionIDKey, in: first, of: body)?[0] else { return nil }
        return RawJSON.string(body, id)
    }

    /// `libraries[].VersionID`.
    private static func libraryVersionIDs(_ body: [UInt8], _ libraries: Range<Int>) -> [String]? {
        RawJSON.elements(body, libraries)?.compactMap { library in
            RawJSON.member("VersionID", of: body, in: library).flatMap { RawJSON.string(body, $0) }
        }
    }

    /// `credentials[]` as `key` → `value`.
    private static func credentialMap(_ body: [UInt8], _ credentials: Range<Int>) -> [String: String] {
        var map: [String: String] = [:]
        for credential in RawJSON.elements(body, credentials) ?? [] {
            guard let key = RawJSON.member("key", of: body, in: credential).flatMap({ RawJSON.string(body, $0) }),
                  let value = RawJSON.member("value", of: body, in: credential) else { continue }
            // Non-string values are passed on as their JSON text.
            map[key] = RawJSON.string(body, value) ?? String(decoding: body[value], as: UTF8.self)
        }
        return map
    }

    // MARK: - Metadata of generated items

    /// The metadata object with `replacements` set (existing keys replaced in place, new ones
    /// appended); an empty replacement removes its key.
    static func metadata(_ metadata: JSONText, setting replacements: [(key: String, json: String)]) -> JSONText {
        let members = RawJSON.memberRanges(metadata, 0..<metadata.count) ?? []
        var pending = replacements
        var result: [UInt8] = [UInt8(ascii: "{")]
        func appendMember(_ keyLiteral: some Sequence<UInt8>, _ value: some Sequence<UInt8>) {
            if result.count > 1 { result.append(UInt8(ascii: ",")) }
            result += keyLiteral
            result.append(UInt8(ascii: ":"))
            result += value
        }
        for member in members {
            let key = RawJSON.string(metadata, member.key)
            if let replacement = pending.firstIndex(where: { $0.key == key }) {
                if !pending[replacement].json.isEmpty { appendMember(metadata[member.key], pending[replacement].json.utf8) }
                pending.remove(at: replacement)
            } else if !replacements.contains(where: { $0.key == key }) {
                // Unchanged members keep their exact bytes, key included.
                appendMember(metadata[member.key], metadata[member.value])
            }
        }
        for replacement in pending where !replacement.json.isEmpty { appendMember(JSONString.encode(replacement.key).utf8, replacement.json.utf8) }
        result.append(UInt8(ascii: "}"))
        return result
    }

    /// The metadata of an item that stands for the whole group (rudder-transformer's
    /// `commonMetadata`): `sourceId`, `destinationId`, `destinationType`, `workspaceId` and
    /// `transformationId` of the group's first event (those it has), and `messageIds`, the
    /// `messageId` of every event of the group in order (null where one has none).
    static func commonMetadata(_ group: [Input]) -> JSONText {
        var result: [UInt8] = [UInt8(ascii: "{")]
        if let first = group.first {
            let members = RawJSON.memberRanges(first.metadata, 0..<first.metadata.count) ?? []
            for key in ["sourceId", "destinationId", "destinationType", "workspaceId", "transformationId"] {
                guard let member = members.last(where: { RawJSON.string(first.metadata, $0.key) == key }) else { continue }
                if result.count > 1 { result.append(UInt8(ascii: ",")) }
                result += first.metadata[member.key]
                result.append(UInt8(ascii: ":"))
                result += first.metadata[member.value]
            }
        }
        if result.count > 1 { result.append(UInt8(ascii: ",")) }
        result += Array(#""messageIds":["#.utf8)
        for (position, input) in group.enumerated() {
            if position > 0 { result.append(UInt8(ascii: ",")) }
            let members = RawJSON.memberRanges(input.metadata, 0..<input.metadata.count) ?? []
            if let member = members.last(where: { RawJSON.string(input.metadata, $0.key) == "messageId" }) {
                result += input.metadata[member.value]
            } else {
                result += Array("null".utf8)
            }
        }
        result += Array("]}".utf8)
        return result
    }

    /// rudder-transformer's metric labels, from the group's first event's metadata.
    static func rudderLabels(_ group: [Input]) -> ServiceMetrics.RudderLabels {
        guard let first = group.first else { return ServiceMetrics.RudderLabels() }
        let members = RawJSON.memberRanges(first.metadata, 0..<first.metadata.count) ?? []
        func field(_ key: String) -> String {
            guard let member = members.last(where: { RawJSON.string(first.metadata, $0.key) == key }) else { return "" }
            return RawJSON.string(first.metadata, member.value) ?? ""
        }
        return ServiceMetrics.RudderLabels(workspaceId: field("workspaceId"), transformationId: field("transformationId"),
                                           sourceType: field("sourceType"), destinationType: field("destinationType"))
    }

    /// A 298 item's metadata: the input's, with `messageIds` null (rudder-transformer's shape).
    static func droppedMetadata(_ metadata: JSONText) -> JSONText {
        Self.metadata(metadata, setting: [("messageIds", "null")])
    }

    /// A `transformBatch` output that matches no input, or any output of a legacy `transform`: the
    /// group's first metadata with a fresh `messageId` and the output's `event` and `type` as
    /// `eventName` and `eventType` (left out when the output has none, as rudder-transformer's
    /// `undefined` is).
    static func metadataForUnmatchedOutput(_ output: JSONText, groupMetadata: JSONText) -> JSONText {
        let fields = RawJSON.objectMembers(output, 0..<output.count) ?? []
        // An absent field leaves the key out (rudder-transformer sets it to undefined).
        func field(_ key: String) -> String {
            guard let range = fields.last(where: { $0.key == key })?.value else { return "" }
            return String(decoding: output[range], as: UTF8.self)
        }
        return metadata(groupMetadata, setting: [
            ("messageId", JSONString.encode(randomUUID())), ("eventName", field("event")), ("eventType", field("type")),
        ])
    }

    /// A random (version 4) UUID, lower case.
    static func randomUUID() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = bytes[6] & 0x0F | 0x40
        bytes[8] = bytes[8] & 0x3F | 0x80
        let hex = bytes.map { byte -> String in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }
        return [hex[0..<4], hex[4..<6], hex[6..<8], hex[8..<10], hex[10..<16]].map { $0.joined() }.joined(separator: "-")
    }
}
