import Foundation
import Testing

/// The rudder-transformer conformance cases in `Tests/Conformance` (one JSON file per case; see
/// its README), each replayed over HTTP against one real `sluice serve` whose transformations
/// folder holds every case's code under the case's name.
@Suite(.serialized) struct Conformance {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        /// The case file, parsed (JSON objects are not Sendable; re-read where needed).
        var text: String
        var testDescription: String { name }

        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:] }
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Conformance")

    static let cases: [Case] = {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return files.filter { $0.hasSuffix(".json") }.sorted().compactMap { file in
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(file).path) else { return nil }
            return Case(name: String(file.dropLast(5)), text: String(decoding: data, as: UTF8.self))
        }
    }()

    /// One server for every case: each case's transformation is a folder named after the case.
    static let server: ServeCommand.Server? = {
        var files: [String: String] = [:]
        for testCase in cases {
            guard let transformation = testCase.object["transformation"] as? [String: Any],
                  let code = transformation["code"] as? String else { continue }
            let language = transformation["language"] as? String ?? "javascript"
            files["\(testCase.name)/transform.\(language == "python" ? "py" : "js")"] = code
            if let codeVersion = transformation["codeVersion"] as? String {
                files["\(testCase.name)/transformation.json"] = #"{"codeVersion":"\#(codeVersion)"}"#
            }
        }
        guard let root = try? sluiceTests.folder(files) else { return nil }
        return try? ServeCommand.Server(transformations: root, arguments: ["--workers", "1"])
    }()

    /// `answered` with every string that stands where `expected` has `"<uuid>"` replaced by
    /// `"<uuid>"` when it is a UUID (generated message ids).
    static func masking(_ answered: Any, like expected: Any) -> Any {
        if let expected = expected as? String, expected == "<uuid>", let text = answered as? String,
           text.range(of: "^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", options: .regularExpression) != nil {
            return "<uuid>"
        }
        if let object = answered as? [String: Any], let pattern = expected as? [String: Any] {
            var masked = object
            for (key, value) in object { if let inner = pattern[key] { masked[key] = masking(value, like: inner) } }
            return masked
        }
        if let array = answered as? [Any], let pattern = expected as? [Any] {
            return array.enumerated().map { index, value in index < pattern.count ? masking(value, like: pattern[index]) : value }
        }
        return answered
    }

    @Test func thereAreCases() {
        #expect(Self.cases.count >= 5)
    }

    @Test(arguments: cases)
    func answersAsRudderTransformer(_ testCase: Case) async throws {
        let server = try #require(Self.server, "the server did not start")
        let spec = testCase.object
        let route = spec["route"] as? String ?? "/customTransform"
        let body: Data
        if let events = spec["events"] as? [[String: Any]] {
            let withDestination = events.map { event -> [String: Any] in
                var event = event
                event["destination"] = ["Transformations": [["VersionID": testCase.name]]]
                return event
            }
            body = try JSONSerialization.data(withJSONObject: withDestination)
        } else if let given = spec["body"] {
            body = try JSONSerialization.data(withJSONObject: given)
        } else {
            body = Data()
        }
        let headers = spec["headers"] as? [String: String] ?? [:]
        let method = spec["method"] as? String ?? "POST"
        let response = method == "GET" ? try await server.get(route)
            : try await server.post(route, String(decoding: body, as: UTF8.self), headers: headers)
        for (name, pattern) in spec["responseHeaders"] as? [String: String] ?? [:] {
            let value = response.headers.value(forHTTPHeaderField: name) ?? ""
            #expect(value.range(of: pattern, options: .regularExpression) != nil, "\(name): \(value.debugDescription) does not match \(pattern)")
        }
        #expect(response.status == spec["status"] as? Int ?? 200, "\(response.body)")
        let answered = try JSONSerialization.jsonObject(with: Data(response.body.utf8), options: [.fragmentsAllowed])
        let expected = try #require(spec["expected"])
        // Compared as canonical JSON text (sorted keys): object key order does not matter.
        func canonical(_ value: Any) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]), as: UTF8.self)
        }
        #expect(try canonical(Self.masking(answered, like: expected)) == canonical(expected), "answered \(response.body)")
    }
}
