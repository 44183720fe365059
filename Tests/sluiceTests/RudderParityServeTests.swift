import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SluiceTestSupport
import Testing

/// issue 12 rows 6 and 7 over HTTP, against a real `sluice serve` (worker processes):
/// `geolocation(ip)` with a loopback geolocation service, and legacy `codeVersion "0"` code from
/// a folder, the config backend and `/transformation/test`.
@Suite(.serialized) struct RudderParityServe {
    typealias Server = ServeCommand.Server

    /// Messages 0… of `request(version:messages:)` carry metadata `{"messageId":"m<i>","sourceId":"s","destinationId":"d"}`.
    static func request(_ version: String, _ messages: [String]) -> String {
        ServeCommand.request(version: version, messages: messages)
    }

    /// The body with every UUID replaced by `<uuid>` (legacy outputs get fresh message ids).
    static func withoutUUIDs(_ text: String) -> String {
        text.replacingOccurrences(of: "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", with: "<uuid>", options: .regularExpression)
    }

    /// A geolocation service on loopback: 1.1.1.1 is in San Francisco, 2.2.2.2 answers 500,
    /// 9.9.9.9 answers after two seconds.
    static func geolocationService() -> LoopbackHTTPServer {
        LoopbackHTTPServer { request, connection in
            switch request.target {
            case "/geoip/1.1.1.1":
                connection.respond("200 OK", ["Content-Type: application/json"], Array(#"{"country":"US","region":"CA","city":"San Francisco"}"#.utf8))
            case "/geoip/9.9.9.9":
                Thread.sleep(forTimeInterval: 2)
                connection.respond("200 OK", [], Array("{}".utf8))
            default:
                connection.respond("500 Internal Server Error")
            }
        }
    }

    static let geolocationCode = [
        "geo/transform.js": """
            export async function transformEvent(event) {
              try { event.geo = await geolocation(event.ip); } catch (error) { event.geo = error; }
              return event;
            }
            """,
        "geo-py/transform.py": """
            def transformEvent(event, metadata):
                try:
                    event["geo"] = geolocation(event.get("ip"))
                except (ValueError, ConnectionError) as error:
                    event["geo"] = {"message": str(error)}
                return event
            """,
        "direct/transform.js": "export async function transformEvent(event) { event.direct = await fetch(event.url); return event; }",
    ]

    @Test func geolocationAsksTheOperatorsServiceThroughTheGuard() async throws {
        let service = Self.geolocationService()
        defer { service.stop() }
        let root = try folder(Self.geolocationCode)
        defer { try? FileManager.default.removeItem(at: root) }
        // The service is on loopback: allowed for geolocation without SLUICE_FETCH_ALLOW.
        let server = try Server(transformations: root, arguments: ["--geolocation-url", service.url, "--geolocation-timeout-ms", "300"])
        let messages = [#"{"ip":"1.1.1.1"}"#, #"{"ip":"invalid"}"#, #"{"ip":""}"#, #"{"ip":"2.2.2.2"}"#, #"{"ip":"9.9.9.9"}"#]
        let metadata = (0..<messages.count).map { #"{"messageId":"m\#($0)","sourceId":"s","destinationId":"d"}"# }
        func items(_ geos: [String]) -> String {
            "[" + zip(messages, zip(geos, metadata)).map { message, pair in
                #"{"output":\#(message.dropLast()),"geo":\#(pair.0)},"metadata":\#(pair.1),"statusCode":200}"#
            }.joined(separator: ",") + "]"
        }
        let expected = items([
            #"{"country":"US","region":"CA","city":"San Francisco"}"#, #"{"message":"invalid ip address"}"#,
            #"{"message":"ip address is required"}"#, #"{"message":"request to fetch geolocation failed with status code: 500"}"#,
            #"{"message":"network timeout at: \#(service.url)/geoip/9.9.9.9"}"#,
        ])
        for version in ["geo", "geo-py"] {
            let response = try await server.post("/customTransform", Self.request(version, messages))
            #expect(response.status == 200)
            #expect(response.body == expected.replacingOccurrences(of: "/", with: #"\/"#) || response.body == expected, "\(version)")
        }
        // User code's own fetch to the same origin is still refused: the allowance is geolocation's.
        let direct = try await server.post("/customTransform", Self.request("direct", [#"{"url":"\#(service.url)/geoip/1.1.1.1"}"#]))
        #expect(direct.body.contains(#""direct":"ERROR""#), "\(direct.body)")
        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains(#"sluice_geolocation_total{outcome="ok"} 2"#))
        #expect(metrics.contains(#"sluice_geolocation_total{outcome="status"} 2"#))
        #expect(metrics.contains(#"sluice_geolocation_total{outcome="timeout"} 2"#))
        #expect(metrics.contains(#"sluice_geolocation_duration_seconds_count{outcome="ok"} 2"#))
        #expect(server.stop() == 0)
    }

    @Test func withoutAGeolocationURLGeolocationIsNotAvailable() async throws {
        let root = try folder(Self.geolocationCode)
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root)
        let response = try await server.post("/customTransform", Self.request("geo", [#"{"ip":"1.1.1.1"}"#, #"{"ip":"x"}"#]))
        #expect(response.body == #"[{"output":{"ip":"1.1.1.1","geo":{"message":"geolocation is not available right now"}},"metadata":{"messageId":"m0","sourceId":"s","destinationId":"d"},"statusCode":200},{"output":{"ip":"x","geo":{"message":"invalid ip address"}},"metadata":{"messageId":"m1","sourceId":"s","destinationId":"d"},"statusCode":200}]"#)
        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains(#"sluice_geolocation_total{outcome="unavailable"} 1"#))
        #expect(server.stop() == 0)
    }

    /// rudder-transformer's "Filtering User Transformations Test", as a legacy transformation.
    static let filterCode = RudderSamples.legacyFilter

    @Test func legacyCodeFromAFolderAndFromTheConfigBackend() async throws {
        let backend = LoopbackHTTPServer { request, connection in
            switch request.target {
            case "/transformation/getByVersionId?versionId=v0":
                let record: [String: Any] = ["code": Self.filterCode, "codeVersion": "0", "language": "javascript", "name": "Filter",
                                             "versionId": "v0", "id": "t0", "workspaceId": "w"]
                connection.respond("200 OK", ["Content-Type: application/json"], Array(try! JSONSerialization.data(withJSONObject: record)))
            case "/transformation/getByVersionId?versionId=v0-throws":
                let record: [String: Any] = ["code": "function transform(events) { return events.map(e => e.missing.field); }",
                                             "codeVersion": "0", "language": "javascript", "name": "Throws", "versionId": "v0-throws"]
                connection.respond("200 OK", ["Content-Type: application/json"], Array(try! JSONSerialization.data(withJSONObject: record)))
            default:
                connection.respond("404 Not Found")
            }
        }
        defer { backend.stop() }
        let root = try folder(["filter/transformation.json": #"{"codeVersion": "0"}"#, "filter/transform.js": Self.filterCode])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, environment: ["CONFIG_BACKEND_URL": backend.url])
        let messages = [#"{"type":"identify","messageId":"m0"}"#, #"{"type":"track","event":"Bought","messageId":"m1"}"#]
        for version in ["filter", "v0"] {
            let response = try await server.post("/customTransform", Self.request(version, messages))
            #expect(response.status == 200)
            // The output is tied to no input: the group's first metadata with a new messageId,
            // eventName and eventType.
            #expect(Self.withoutUUIDs(response.body) == #"[{"output":{"type":"track","event":"Bought","messageId":"m1","sourceId":"s"},"metadata":{"messageId":"<uuid>","sourceId":"s","destinationId":"d","eventName":"Bought","eventType":"track"},"statusCode":200}]"#, "\(version)")
            // With rudder-server's filter header every input also counts as dropped (298 first).
            let filtered = try await server.post("/customTransform", Self.request(version, messages), headers: ["X-Feature-Filter-Code": "?1"])
            #expect(Self.withoutUUIDs(filtered.body) == #"[{"statusCode":298,"metadata":{"messageId":"m0","sourceId":"s","destinationId":"d","messageIds":null}},{"statusCode":298,"metadata":{"messageId":"m1","sourceId":"s","destinationId":"d","messageIds":null}},{"output":{"type":"track","event":"Bought","messageId":"m1","sourceId":"s"},"metadata":{"messageId":"<uuid>","sourceId":"s","destinationId":"d","eventName":"Bought","eventType":"track"},"statusCode":200}]"#, "\(version)")
        }
        // A throw fails the whole group: every input gets the error with its own metadata.
        let thrown = try await server.post("/customTransform", Self.request("v0-throws", messages))
        #expect(thrown.body == #"[{"statusCode":400,"error":"TypeError: undefined is not an object (evaluating 'e.missing.field')\n    at transform.js:1:62\n    at transform (transform.js:1:47)","metadata":{"messageId":"m0","sourceId":"s","destinationId":"d"}},{"statusCode":400,"error":"TypeError: undefined is not an object (evaluating 'e.missing.field')\n    at transform.js:1:62\n    at transform (transform.js:1:47)","metadata":{"messageId":"m1","sourceId":"s","destinationId":"d"}}]"#)
        #expect(server.stop() == 0)
    }

    @Test func legacyCodeOnTheTestRoute() async throws {
        let root = try folder(["unused/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root)
        let code = """
            async function transform(events) {
              const pr = await new Promise(resolve => resolve("resolved"));
              return events.map(event => { log("Transformation test"); event.promise = pr; return event; });
            }
            """
        let body: [String: Any] = [
            "events": [["message": ["type": "identify"], "metadata": ["messageId": "m0"]], ["message": ["type": "page"]]],
            "trRevCode": ["code": code, "codeVersion": "0", "language": "javascript", "name": "legacy"],
        ]
        let response = try await server.post("/transformation/test", String(decoding: try JSONSerialization.data(withJSONObject: body), as: UTF8.self))
        #expect(response.status == 200)
        #expect(response.body == #"{"transformedEvents":[{"type":"identify","promise":"resolved"},{"type":"page","promise":"resolved"}],"logs":["Log: Transformation test","Log: Transformation test"]}"#)
        // codeVersion "1" runs the same code as a module, which defines no transformEvent.
        var current = body
        current["trRevCode"] = ["code": code, "codeVersion": "1", "language": "javascript"]
        let refused = try await server.post("/transformation/test", String(decoding: try JSONSerialization.data(withJSONObject: current), as: UTF8.self))
        #expect(refused.status == 400)
        #expect(server.stop() == 0)
    }
}
