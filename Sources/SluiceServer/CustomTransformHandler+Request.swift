import SluiceCore

/// Reading a `/customTransform` body: validating it, finding each item's parts and the group it
/// belongs to, and the batch a group runs as. Event bodies stay raw JSON bytes.
extension CustomTransformHandler {
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

    /// The request's inputs grouped by source and destination, in order of first appearance.
    static func groups(_ inputs: [Input]) -> [[Input]] {
        var groups: [[Input]] = []
        var groupOfKey: [[UInt8]: Int] = [:]
        for input in inputs {
            if let group = groupOfKey[input.groupKey] {
                groups[group].append(input)
            } else {
                groupOfKey[input.groupKey] = groups.count
                groups.append([input])
            }
        }
        return groups
    }

    /// The group's batch: its envelopes, the first credentials any of its events carries as the
    /// request's, and the credentials of each event that carries its own.
    static func batch(of group: [Input], body: [UInt8]) -> Batch {
        var batch = Batch(items: group.map(\.envelope))
        // Each envelope ends with its metadata text (see `parse`).
        batch.metadataTexts = group.map(\.metadata)
        var requestCredentials: [String: CredentialValue]?
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
    static func versionID(_ body: [UInt8], _ destination: Range<Int>) -> String? {
        guard let transformations = RawJSON.values(of: transformationsKey, in: destination, of: body)?[0],
              let first = RawJSON.elements(body, transformations)?.first,
              let id = RawJSON.values(of: versionIDKey, in: first, of: body)?[0] else { return nil }
        return RawJSON.string(body, id)
    }

    /// `libraries[].VersionID`.
    static func libraryVersionIDs(_ body: [UInt8], _ libraries: Range<Int>) -> [String]? {
        RawJSON.elements(body, libraries)?.compactMap { library in
            RawJSON.member("VersionID", of: body, in: library).flatMap { RawJSON.string(body, $0) }
        }
    }

    /// `credentials[]` as `key` → `value`, each value with its JSON type (as rudder-transformer
    /// passes it on).
    private static func credentialMap(_ body: [UInt8], _ credentials: Range<Int>) -> [String: CredentialValue] {
        var map: [String: CredentialValue] = [:]
        for credential in RawJSON.elements(body, credentials) ?? [] {
            guard let key = RawJSON.member("key", of: body, in: credential).flatMap({ RawJSON.string(body, $0) }),
                  let value = RawJSON.member("value", of: body, in: credential) else { continue }
            map[key] = CredentialValue(json: String(decoding: body[value], as: UTF8.self))
        }
        return map
    }
}
