import Foundation
import Logging
import SluiceCore

/// Writing a `/customTransform` response: the items rudder-server reads, their metadata, and
/// what user code must not leak into them.
extension CustomTransformHandler {
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

        /// The group's items for `result`: its 298 items first (with `filterCode`), then outputs
        /// and errors in input order.
        mutating func items(of result: BatchResult, group: [Input], filterCode: Bool) {
            if filterCode {
                for eventResult in result.results {
                    guard case .dropped = eventResult.outcome else { continue }
                    begin(#"{"statusCode":298,"metadata":"#)
                    bytes += CustomTransformHandler.droppedMetadata(eventResult.metadata)
                    bytes.append(UInt8(ascii: "}"))
                }
            }
            // rudder-transformer's shape for failures that belong to no single event: a whole
            // transformBatch call that threw or returned a non-array is ONE item, and it and a
            // non-object element carry the group's common metadata with every messageId.
            var groupMetadata: JSONText?
            func common() -> JSONText {
                if let groupMetadata { return groupMetadata }
                let made = CustomTransformHandler.commonMetadata(group)
                groupMetadata = made
                return made
            }
            var batchFailureSent = false
            for eventResult in result.results {
                switch eventResult.outcome {
                case .failed(let failure) where failure.coversBatch:
                    guard !batchFailureSent else { continue }
                    batchFailureSent = true
                    error(status: failure.kind.rudderItemStatus, failure.message, metadata: common())
                case .failed(let failure) where eventResult.inputIndex == nil:
                    error(status: failure.kind.rudderItemStatus, failure.message, metadata: common())
                case .output(let json):
                    begin(#"{"output":"#)
                    bytes += json
                    append(#","metadata":"#)
                    if eventResult.inputIndex == nil {
                        bytes += CustomTransformHandler.metadataForUnmatchedOutput(json, groupMetadata: group[0].metadata)
                    } else {
                        bytes += eventResult.metadata
                    }
                    append(#","statusCode":200}"#)
                case .dropped:
                    continue
                case .failed(let failure):
                    error(status: failure.kind.rudderItemStatus, failure.message, metadata: eventResult.metadata)
                }
            }
        }

        mutating func finished() -> [UInt8] {
            bytes.append(UInt8(ascii: "]"))
            return bytes
        }
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
