import Foundation
import SluiceCore
import SluiceRuntime
import SluiceServer
import Testing

let runtime = Runtime(libraries: NoLibraries())

/// Version ids the tests know: code compiled on demand, plus ids that fail in each way.
struct TestResolver: VersionResolver {
    static let code: [String: String] = [
        "v-upper": """
        export function transformEvent(event, metadata) {
          if (event.drop) return;
          if (event.fail) throw new Error("boom " + event.n);
          if (event.split) return [event, { ...event, copy: true }];
          return { ...event, upper: String(event.name).toUpperCase(), secret: getCredential("k") ?? null };
        }
        """,
        "v-tag": "export function transformEvent(event) { event.tagged = true; return event; }",
        "v-batch": """
        export function transformBatch(events) {
          return [...events.map(e => e), { type: "track", event: "Summary", count: events.length }];
        }
        """,
        "v-broken": "export function transformEvent(event) { return event.; }",
    ]

    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution {
        if versionID == "v-down" { return .failed(Failure(.unavailable, "config backend unreachable")) }
        guard let code = Self.code[versionID] else { return .failed(Failure(.notFound, "Transformation \(versionID) not found")) }
        let source = TransformationSource(name: versionID, language: .javascript, fileName: "transform.js", code: code)
        return .found(Program(id: versionID, source: source, libraries: []), limits: nil)
    }
}

let handler = CustomTransformHandler(executor: InProcessExecutor(runtime: runtime), resolver: TestResolver())

/// One request item: `message`, and the rest of the envelope rudder-server sends.
func event(_ message: String, id: String, version: String? = "v-upper", source: String = "s1", destination: String = "d1") -> String {
    let transformations = version.map { #"[{"VersionID":"\#($0)"}]"# } ?? "[]"
    return #"{"message":\#(message),"metadata":{"messageId":"\#(id)","sourceId":"\#(source)","destinationId":"\#(destination)"},"destination":{"Transformations":\#(transformations)},"credentials":[{"id":"c","key":"k","value":"sesame","isSecret":true}]}"#
}

func send(_ items: [String], filterCode: Bool = false) throws -> (status: Int, items: [[String: Any]], headers: [String: String]) {
    let response = handler.handle(body: Array(("[" + items.joined(separator: ",") + "]").utf8), filterCode: filterCode)
    let decoded = try JSONSerialization.jsonObject(with: Data(response.body))
    let array = try #require(decoded as? [[String: Any]], "body: \(String(decoding: response.body, as: UTF8.self))")
    return (response.status, array, Dictionary(uniqueKeysWithValues: response.headers.map { ($0.name, $0.value) }))
}

func messageId(_ item: [String: Any]) -> String? { (item["metadata"] as? [String: Any])?["messageId"] as? String }

@Suite struct CustomTransformTests {
    @Test func outputsCarryTheInputMetadataStatus200AndTheApiVersionHeader() throws {
        let response = try send([event(#"{"name":"ann","n":1}"#, id: "m1")])
        #expect(response.status == 200)
        #expect(response.headers["apiVersion"] == "2")
        #expect(response.items.count == 1)
        let item = response.items[0]
        #expect(item["statusCode"] as? Int == 200)
        #expect((item["output"] as? [String: Any])?["upper"] as? String == "ANN")
        #expect((item["output"] as? [String: Any])?["secret"] as? String == "sesame")  // credentials reach getCredential
        #expect(item["metadata"] as? [String: String] == ["messageId": "m1", "sourceId": "s1", "destinationId": "d1"])
    }

    @Test func aThrowingEventIsA400ItemAndTheOthersStillRun() throws {
        let response = try send([event(#"{"n":1}"#, id: "m1"), event(#"{"n":2,"fail":true}"#, id: "m2"), event(#"{"n":3}"#, id: "m3")])
        #expect(response.status == 200)
        #expect(response.items.map { $0["statusCode"] as? Int } == [200, 400, 200])
        #expect(response.items.map(messageId) == ["m1", "m2", "m3"])
        #expect((response.items[1]["error"] as? String)?.hasPrefix("Error: boom 2") == true)
    }

    @Test func dropsAreOmittedWithoutTheFilterCodeHeader() throws {
        let response = try send([event(#"{"n":1,"drop":true}"#, id: "m1"), event(#"{"n":2}"#, id: "m2")])
        #expect(response.items.map(messageId) == ["m2"])
    }

    @Test func withTheFilterCodeHeaderDropsAre298ItemsAndComeFirst() throws {
        let response = try send([event(#"{"n":1}"#, id: "m1"), event(#"{"n":2,"drop":true}"#, id: "m2")], filterCode: true)
        #expect(response.items.map { $0["statusCode"] as? Int } == [298, 200])
        let metadata = try #require(response.items[0]["metadata"] as? [String: Any])
        #expect(metadata["messageId"] as? String == "m2")
        #expect(metadata["messageIds"] is NSNull)
        #expect(response.items[0]["output"] == nil)
    }

    @Test func aSplitEventGivesOneItemPerOutputWithTheSameMetadata() throws {
        let response = try send([event(#"{"n":1,"split":true}"#, id: "m1")])
        #expect(response.items.map(messageId) == ["m1", "m1"])
        #expect((response.items[1]["output"] as? [String: Any])?["copy"] as? Bool == true)
    }

    @Test func aMissingVersionIDIsOne400ItemForTheGroup() throws {
        let response = try send([event(#"{"n":1}"#, id: "m1", version: nil), event(#"{"n":2}"#, id: "m2", version: nil)])
        #expect(response.status == 200)
        #expect(response.items.count == 1)
        #expect(response.items[0]["statusCode"] as? Int == 400)
        #expect(response.items[0]["error"] as? String == "Transformation VersionID not found")
        #expect(messageId(response.items[0]) == "m1")
    }

    @Test func anUnknownVersionIsA404PerEvent() throws {
        let response = try send([event(#"{"n":1}"#, id: "m1", version: "nope"), event(#"{"n":2}"#, id: "m2", version: "nope")])
        #expect(response.status == 200)
        #expect(response.items.map { $0["statusCode"] as? Int } == [404, 404])
        #expect(response.items.map(messageId) == ["m1", "m2"])
    }

    @Test func aCompileErrorFailsEveryEventOfTheGroupWith400() throws {
        let response = try send([event(#"{"n":1}"#, id: "m1", version: "v-broken"), event(#"{"n":2}"#, id: "m2", version: "v-broken")])
        #expect(response.items.map { $0["statusCode"] as? Int } == [400, 400])
        #expect((response.items[0]["error"] as? String)?.contains("SyntaxError") == true)
    }

    @Test func aTransientCodeSourceFailureIs809PerEventAndHTTP809() throws {
        let response = try send([event(#"{"n":1}"#, id: "m1", version: "v-down", destination: "d2"), event(#"{"n":2}"#, id: "m2")])
        #expect(response.status == 809)
        #expect(response.items.map { $0["statusCode"] as? Int } == [809, 200])
    }

    @Test func eachSourceDestinationGroupRunsItsOwnVersionAndEveryInputAppearsOnce() throws {
        let response = try send([
            event(#"{"name":"a"}"#, id: "m1"),
            event(#"{"name":"b"}"#, id: "m2", version: "v-tag", destination: "d2"),
            event(#"{"name":"c"}"#, id: "m3", version: "v-tag"),  // group d1/s1: runs v-upper, the group's first version
            event(#"{"name":"d"}"#, id: "m4", version: "v-tag", source: "s2", destination: "d2"),
        ])
        #expect(response.items.map(messageId) == ["m1", "m3", "m2", "m4"])
        let outputs = response.items.map { $0["output"] as? [String: Any] ?? [:] }
        #expect(outputs.map { $0["upper"] as? String } == ["A", "C", nil, nil])
        #expect(outputs.map { $0["tagged"] as? Bool } == [nil, nil, true, true])
    }

    @Test func anEmptyArrayIsAnEmptyAnswerNotAnError() throws {
        let response = try send([])
        #expect(response.status == 200)
        #expect(response.items.isEmpty)
    }

    @Test func aMissingMetadataIsTreatedAsEmpty() throws {
        let response = try send([#"{"message":{"name":"x"},"destination":{"Transformations":[{"VersionID":"v-upper"}]}}"#])
        #expect(response.items.count == 1)
        #expect(response.items[0]["statusCode"] as? Int == 200)
        #expect((response.items[0]["metadata"] as? [String: Any])?.isEmpty == true)
    }

    @Test func aBatchOutputMatchingNoInputGetsTheGroupsMetadataWithAFreshMessageId() throws {
        let response = try send([event(#"{"messageId":"m1","n":1}"#, id: "m1", version: "v-batch"),
                                 event(#"{"messageId":"m2","n":2}"#, id: "m2", version: "v-batch")])
        #expect(response.items.count == 3)
        #expect(response.items.prefix(2).map(messageId) == ["m1", "m2"])
        let summary = try #require(response.items[2]["metadata"] as? [String: Any])
        let id = try #require(summary["messageId"] as? String)
        #expect(id.count == 36 && id != "m1" && UUID(uuidString: id) != nil)
        #expect(summary["eventName"] as? String == "Summary")
        #expect(summary["eventType"] as? String == "track")
        #expect(summary["sourceId"] as? String == "s1")
    }

    @Test func invalidJSONIsA400NamingTheByteOffsetAndNothingRuns() throws {
        let body = Array(#"[{"message":{"a":1}},{"message":{"a":tru}}]"#.utf8)
        let response = handler.handle(body: body, filterCode: false)
        #expect(response.status == 400)
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"invalid JSON at byte 37: expected a value"}"#)
    }

    @Test func aBodyThatIsNotAnArrayOfEventsIsA400() throws {
        for (body, message) in [
            (#"{"message":{}}"#, "invalid JSON at byte 0: expected a JSON array"),
            (#"[1]"#, "invalid JSON at byte 1: item 0 is not an object"),
            (#"[{"metadata":{}}]"#, #"invalid JSON at byte 1: item 0: \"message\" must be an object"#),
            ("", "invalid JSON at byte 0: empty body, expected a JSON array"),
        ] {
            let response = handler.handle(body: Array(body.utf8), filterCode: false)
            #expect(response.status == 400)
            #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":"\#(message)"}"#, "body \(body)")
        }
    }
}

@Suite struct CustomTransformGroupingTests {
    @Test func nonStringIdsKeepTheirGroupsApart() throws {
        let items = [
            #"{"message":{"n":1},"metadata":{"messageId":"a","destinationId":1,"sourceId":"s"},"destination":{"Transformations":[{"VersionID":"v-upper"}]}}"#,
            #"{"message":{"n":2},"metadata":{"messageId":"b","destinationId":2,"sourceId":"s"},"destination":{"Transformations":[{"VersionID":"v-tag"}]}}"#,
        ]
        let response = try send(items)
        let outputs = response.items.map { $0["output"] as? [String: Any] ?? [:] }
        #expect(outputs.map { $0["tagged"] as? Bool } == [nil, true])  // the second group ran its own version
    }

    @Test func theSameIdWrittenWithAnEscapeIsTheSameGroupAndAStringIsNotANumber() throws {
        let items = [
            #"{"message":{"n":1},"metadata":{"destinationId":"d1","sourceId":"s"},"destination":{"Transformations":[{"VersionID":"v-upper"}]}}"#,
            #"{"message":{"n":2},"metadata":{"destinationId":"\u0064\u0031","sourceId":"s"},"destination":{"Transformations":[{"VersionID":"v-tag"}]}}"#,
            #"{"message":{"n":3},"metadata":{"destinationId":"1","sourceId":"s"},"destination":{"Transformations":[{"VersionID":"v-tag"}]}}"#,
            #"{"message":{"n":4},"metadata":{"destinationId":1,"sourceId":"s"},"destination":{"Transformations":[{"VersionID":"v-upper"}]}}"#,
        ]
        let response = try send(items)
        let outputs = response.items.map { $0["output"] as? [String: Any] ?? [:] }
        // One group for d1 (run as v-upper, its first event's), then "1" (v-tag), then 1 (v-upper).
        #expect(outputs.map { $0["n"] as? Int } == [1, 2, 3, 4])
        #expect(outputs.map { $0["tagged"] as? Bool } == [nil, nil, true, nil])
    }
}

@Suite struct DroppedMetadataTests {
    @Test func droppedItemsKeepTheInputsMetadataBytesExactly() throws {
        let item = #"{"message":{"drop":true},"metadata":{"messageId":"m1","k\ud800x":"\u00e9","messageIds":["a"],"sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"v-upper"}]}}"#
        let response = handler.handle(body: Array(("[" + item + "]").utf8), filterCode: true)
        #expect(String(decoding: response.body, as: UTF8.self)
            == #"[{"statusCode":298,"metadata":{"messageId":"m1","k\ud800x":"\u00e9","messageIds":null,"sourceId":"s","destinationId":"d"}}]"#)
    }
}
