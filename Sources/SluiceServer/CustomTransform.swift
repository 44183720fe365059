import SluiceCore
import SluiceRuntime

/// What the code source knows about a transformation version (CONTRACT.md §2.1).
public enum VersionResolution: Sendable {
    /// Compiled and ready to run, under `limits` when given (the version's own), else the handler's.
    case compiled(any CompiledTransformation, limits: Limits? = nil)
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

    public init(runtime: Runtime, resolver: any VersionResolver, limits: Limits = .defaults) {
        self.runtime = runtime
        self.resolver = resolver
        self.limits = limits
    }

    /// One input of the request, as the grouping needs it.
    struct Input {
        var envelope: JSONText
        var metadata: JSONText
        var groupKey: String
        var versionID: String?
        var libraryVersionIDs: [String]
        var credentials: [String: String]
    }

    /// Handles one request body. `filterCode` is true when the request carries
    /// `X-Feature-Filter-Code: ?1` (dropped events then get 298 items).
    public func handle(body: [UInt8], filterCode: Bool) -> WireResponse {
        let inputs: [Input]
        do {
            inputs = try Self.parse(body)
        } catch let error as RawJSONError {
            return .error(400, error.description)
        } catch {
            return .error(400, "\(error)")
        }
        var groups: [(key: String, indices: [Int])] = []
        var groupOfKey: [String: Int] = [:]
        for (index, input) in inputs.enumerated() {
            if let group = groupOfKey[input.groupKey] {
                groups[group].indices.append(index)
            } else {
                groupOfKey[input.groupKey] = groups.count
                groups.append((input.groupKey, [index]))
            }
        }
        var items: [[UInt8]] = []
        items.reserveCapacity(inputs.count)
        var transient = false
        var engineTime = Duration.zero
        for group in groups {
            let members = group.indices.map { inputs[$0] }
            transient = run(members, filterCode: filterCode, into: &items, engineTime: &engineTime) || transient
        }
        var response: [UInt8] = [UInt8(ascii: "[")]
        response.reserveCapacity(items.reduce(2) { $0 + $1.count + 1 })
        for (position, item) in items.enumerated() {
            if position > 0 { response.append(UInt8(ascii: ",")) }
            response += item
        }
        response.append(UInt8(ascii: "]"))
        var wire = WireResponse(status: transient ? 809 : 200, body: response, headers: [("apiVersion", "2")])
        wire.engineTime = engineTime
        return wire
    }

    /// Runs one source/destination group and appends its items; true when the code source
    /// failed transiently.
    private func run(_ group: [Input], filterCode: Bool, into items: inout [[UInt8]], engineTime: inout Duration) -> Bool {
        guard let versionID = group[0].versionID, !versionID.isEmpty else {
            items.append(Self.item(status: 400, error: "Transformation VersionID not found", metadata: group[0].metadata))
            return false
        }
        let transformation: any CompiledTransformation
        var limits = self.limits
        switch resolver.resolve(versionID: versionID, libraryVersionIDs: group[0].libraryVersionIDs) {
        case .compiled(let compiled, let versionLimits):
            transformation = compiled
            limits = versionLimits ?? limits
        case .notFound(let message):
            items += group.map { Self.item(status: 404, error: message, metadata: $0.metadata) }
            return false
        case .failed(let message):
            items += group.map { Self.item(status: 400, error: message, metadata: $0.metadata) }
            return false
        case .transient(let message):
            items += group.map { Self.item(status: 809, error: message, metadata: $0.metadata) }
            return true
        }
        let batch = Batch(items: group.map(\.envelope), credentials: group[0].credentials)
        let start = ContinuousClock.now
        let result = runtime.run(transformation, batch: batch, limits: limits)
        engineTime += ContinuousClock.now - start
        var dropped: [[UInt8]] = []
        var others: [[UInt8]] = []
        for eventResult in result.results {
            switch eventResult.outcome {
            case .output(let json):
                let metadata = eventResult.inputIndex == nil
                    ? Self.metadataForUnmatchedOutput(json, groupMetadata: group[0].metadata)
                    : eventResult.metadata
                var item = Array(#"{"output":"#.utf8)
                item += json
                item += #","metadata":"#.utf8
                item += metadata
                item += #","statusCode":200}"#.utf8
                others.append(item)
            case .dropped:
                guard filterCode else { continue }
                var item = Array(#"{"statusCode":298,"metadata":"#.utf8)
                item += Self.droppedMetadata(eventResult.metadata)
                item.append(UInt8(ascii: "}"))
                dropped.append(item)
            case .failed(let failure):
                others.append(Self.item(status: 400, error: failure.message, metadata: eventResult.metadata))
            }
        }
        items += dropped
        items += others
        return false
    }

    static func item(status: Int, error: String, metadata: JSONText) -> [UInt8] {
        var item = Array(#"{"statusCode":\#(status),"error":"#.utf8)
        JSONString.append(error, to: &item)
        item += #","metadata":"#.utf8
        item += metadata
        item.append(UInt8(ascii: "}"))
        return item
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
            var groupKey = "\u{1}"
            if let metadata, let fields = RawJSON.objectMembers(body, metadata) {
                metadataText = Array(body[metadata])
                func text(_ key: String) -> String {
                    fields.last { $0.key == key }.flatMap { RawJSON.string(body, $0.value) } ?? ""
                }
                groupKey = text("destinationId") + "\u{1}" + text("sourceId")
            }
            // Only the parts the engine reads: the event and its metadata.
            var envelope = Array(#"{"message":"#.utf8)
            envelope += body[message]
            envelope += #","metadata":"#.utf8
            envelope += metadataText
            envelope.append(UInt8(ascii: "}"))
            inputs.append(Input(
                envelope: envelope, metadata: metadataText, groupKey: groupKey,
                versionID: destination.flatMap { versionID(body, $0) },
                libraryVersionIDs: libraries.flatMap { libraryVersionIDs(body, $0) } ?? [],
                credentials: credentials.map { credentialMap(body, $0) } ?? [:]
            ))
        }
        return inputs
    }

    /// `destination.Transformations[0].VersionID`.
    private static func versionID(_ body: [UInt8], _ destination: Range<Int>) -> String? {
        guard let transformations = RawJSON.member("Transformations", of: body, in: destination),
              let first = RawJSON.elements(body, transformations)?.first,
              let id = RawJSON.member("VersionID", of: body, in: first) else { return nil }
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

    /// The metadata object with `replacements` set (existing keys replaced in place, new ones appended).
    static func metadata(_ metadata: JSONText, setting replacements: [(key: String, json: String)]) -> JSONText {
        let members = RawJSON.objectMembers(metadata, 0..<metadata.count) ?? []
        var pending = replacements
        var result: [UInt8] = [UInt8(ascii: "{")]
        func appendMember(_ key: String, _ value: some Sequence<UInt8>) {
            if result.count > 1 { result.append(UInt8(ascii: ",")) }
            JSONString.append(key, to: &result)
            result.append(UInt8(ascii: ":"))
            result += value
        }
        for member in members {
            if let replacement = pending.firstIndex(where: { $0.key == member.key }) {
                appendMember(member.key, pending[replacement].json.utf8)
                pending.remove(at: replacement)
            } else if !replacements.contains(where: { $0.key == member.key }) {
                appendMember(member.key, metadata[member.value])
            }
        }
        for replacement in pending { appendMember(replacement.key, replacement.json.utf8) }
        result.append(UInt8(ascii: "}"))
        return result
    }

    /// A 298 item's metadata: the input's, with `messageIds` null (rudder-transformer's shape).
    static func droppedMetadata(_ metadata: JSONText) -> JSONText {
        Self.metadata(metadata, setting: [("messageIds", "null")])
    }

    /// A `transformBatch` output that matches no input: the group's first metadata with a fresh
    /// `messageId` and the output's `event` and `type` as `eventName` and `eventType`.
    static func metadataForUnmatchedOutput(_ output: JSONText, groupMetadata: JSONText) -> JSONText {
        let fields = RawJSON.objectMembers(output, 0..<output.count) ?? []
        func field(_ key: String) -> String {
            guard let range = fields.last(where: { $0.key == key })?.value else { return "null" }
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
