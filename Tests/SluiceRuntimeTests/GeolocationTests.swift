import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

/// `geolocation(ip)` in both languages (issue 12, row 6), against a fetch handler standing in for
/// the service's (which asks the operator's geolocation URL; see ServeCommandTests for the real one).
@Suite struct GeolocationLookups {
    /// Answers geolocation lookups: 1.1.1.1 → a location, 2.2.2.2 → 503, 3.3.3.3 → not JSON;
    /// any other address fails as the network would. Records what it was asked.
    final class Service: @unchecked Sendable {
        private(set) var asked: [FetchRequest] = []
        var handler: FetchHandler {
            { request, _ in
                self.asked.append(request)
                switch request.url {
                case "1.1.1.1":
                    return .success(FetchResponse(url: "http://geo.test/geoip/1.1.1.1", status: 200, headers: [:],
                                                  body: Array(#"{"country":"US","region":"CA","city":"San Francisco"}"#.utf8)))
                case "2.2.2.2": return .success(FetchResponse(url: "http://geo.test/geoip/2.2.2.2", status: 503, headers: [:], body: []))
                case "3.3.3.3": return .success(FetchResponse(url: "http://geo.test/geoip/3.3.3.3", status: 200, headers: [:], body: Array("nope".utf8)))
                default: return .failure(FetchFailure(kind: "timeout", message: "network timeout at: http://geo.test/geoip/\(request.url)"))
                }
            }
        }
    }

    static let javascript = """
        export async function transformEvent(event) {
          try { event.geo = await geolocation(event.ip); }
          catch (error) { event.geo = error; }
          return event;
        }
        """
    static let python = """
        def transformEvent(event, metadata):
            try:
                event["geo"] = geolocation(event.get("ip"))
            except (ValueError, ConnectionError) as error:
                event["geo"] = {"class": type(error).__name__, "message": str(error)}
            return event
        """
    static let inputs = [#"{"ip":"1.1.1.1"}"#, #"{"ip":""}"#, "{}", #"{"ip":"invalid"}"#, #"{"ip":"2.2.2.2"}"#, #"{"ip":"3.3.3.3"}"#,
                         #"{"ip":"4.4.4.4"}"#]

    func run(_ code: String, language: Language, inputs: [String], fetch: FetchHandler?, mocks: String? = nil) throws -> [String] {
        let compiled = try sharedRuntime.compile(TransformationSource(name: "geo", language: language, fileName: "t.\(language.fileExtension)", code: code))
        var batch = Batch(items: items(inputs), fetchMocks: mocks)
        batch.fetch = fetch
        return sharedRuntime.run(compiled, batch: batch, limits: .defaults).results.map { render($0) }
    }

    @Test func javascriptResolvesToTheJSONAndRejectsWithPlainObjects() throws {
        let service = Service()
        #expect(try run(Self.javascript, language: .javascript, inputs: Self.inputs, fetch: service.handler) == [
            #"0 output {"ip":"1.1.1.1","geo":{"country":"US","region":"CA","city":"San Francisco"}}"#,
            #"1 output {"ip":"","geo":{"message":"ip address is required"}}"#,
            #"2 output {"geo":{"message":"ip address is required"}}"#,
            #"3 output {"ip":"invalid","geo":{"message":"invalid ip address"}}"#,
            #"4 output {"ip":"2.2.2.2","geo":{"message":"request to fetch geolocation failed with status code: 503"}}"#,
            #"5 output {"ip":"3.3.3.3","geo":{"message":"invalid json response body at http://geo.test/geoip/3.3.3.3 reason: JSON Parse error: Unexpected identifier \"nope\""}}"#,
            #"6 output {"ip":"4.4.4.4","geo":{"message":"network timeout at: http://geo.test/geoip/4.4.4.4"}}"#,
        ])
        // Invalid addresses never reach the service; the valid ones go as lookups, not fetches.
        #expect(service.asked.map(\.url) == ["1.1.1.1", "2.2.2.2", "3.3.3.3", "4.4.4.4"])
        #expect(service.asked.allSatisfy { $0.purpose == .geolocation })
    }

    @Test func pythonReturnsTheDictOrRaises() throws {
        let service = Service()
        #expect(try run(Self.python, language: .python, inputs: Self.inputs, fetch: service.handler) == [
            #"0 output {"ip":"1.1.1.1","geo":{"country":"US","region":"CA","city":"San Francisco"}}"#,
            #"1 output {"ip":"","geo":{"class":"ValueError","message":"ip address is required"}}"#,
            #"2 output {"geo":{"class":"ValueError","message":"ip address is required"}}"#,
            #"3 output {"ip":"invalid","geo":{"class":"ValueError","message":"invalid ip address"}}"#,
            #"4 output {"ip":"2.2.2.2","geo":{"class":"ConnectionError","message":"request to fetch geolocation failed with status code: 503"}}"#,
            #"5 output {"ip":"3.3.3.3","geo":{"class":"ConnectionError","message":"invalid json response body at http://geo.test/geoip/3.3.3.3 reason: Expecting value: line 1 column 1 (char 0)"}}"#,
            #"6 output {"ip":"4.4.4.4","geo":{"class":"ConnectionError","message":"network timeout at: http://geo.test/geoip/4.4.4.4"}}"#,
        ])
    }

    @Test func theAddressIsCheckedBeforeTheServiceIsMissed() throws {
        // No service (sluice run, or a service without a geolocation URL): the address is still
        // validated first, as rudder-transformer does.
        let inputs = [#"{"ip":"1.1.1.1"}"#, #"{"ip":"invalid"}"#]
        #expect(try run(Self.javascript, language: .javascript, inputs: inputs, fetch: nil) == [
            #"0 output {"ip":"1.1.1.1","geo":{"message":"geolocation is not available right now"}}"#,
            #"1 output {"ip":"invalid","geo":{"message":"invalid ip address"}}"#,
        ])
        #expect(try run(Self.python, language: .python, inputs: inputs, fetch: nil) == [
            #"0 output {"ip":"1.1.1.1","geo":{"class":"ConnectionError","message":"geolocation is not available right now"}}"#,
            #"1 output {"ip":"invalid","geo":{"class":"ValueError","message":"invalid ip address"}}"#,
        ])
    }

    @Test func aRejectionReturnedAsTheEventKeepsItsText() throws {
        let code = "export function transformEvent(event) { return geolocation('x').catch((error) => ({ error, text: JSON.stringify(error) })); }"
        #expect(try run(code, language: .javascript, inputs: ["{}"], fetch: nil) == [
            #"0 output {"error":{"message":"invalid ip address"},"text":"{\"message\":\"invalid ip address\"}"}"#,
        ])
    }

    @Test func testRunsAnswerFromMocksKeyedByThePath() throws {
        let mocks = #"{"/geoip/1.1.1.1": {"body": {"city": "Paris"}}, "/geoip/2.2.2.2": {"status": 404, "body": null}}"#
        let inputs = [#"{"ip":"1.1.1.1"}"#, #"{"ip":"2.2.2.2"}"#, #"{"ip":"5.5.5.5"}"#, #"{"ip":"1.1.1.1.1"}"#]
        #expect(try run(Self.javascript, language: .javascript, inputs: inputs, fetch: nil, mocks: mocks) == [
            #"0 output {"ip":"1.1.1.1","geo":{"city":"Paris"}}"#,
            #"1 output {"ip":"2.2.2.2","geo":{"message":"request to fetch geolocation failed with status code: 404"}}"#,
            #"2 output {"ip":"5.5.5.5","geo":{"message":"geolocation: no mock for GET /geoip/5.5.5.5"}}"#,
            #"3 output {"ip":"1.1.1.1.1","geo":{"message":"invalid ip address"}}"#,
        ])
        #expect(try run(Self.python, language: .python, inputs: inputs, fetch: nil, mocks: mocks) == [
            #"0 output {"ip":"1.1.1.1","geo":{"city":"Paris"}}"#,
            #"1 output {"ip":"2.2.2.2","geo":{"class":"ConnectionError","message":"request to fetch geolocation failed with status code: 404"}}"#,
            #"2 output {"ip":"5.5.5.5","geo":{"class":"ConnectionError","message":"geolocation: no mock for GET /geoip/5.5.5.5"}}"#,
            #"3 output {"ip":"1.1.1.1.1","geo":{"class":"ValueError","message":"invalid ip address"}}"#,
        ])
    }

    @Test(arguments: [
        ("1.1.1.1", true), ("127.1", true), ("2130706433", true), ("0x7f000001", true), ("0177.0.0.1", true), ("255.255.255.255", true),
        ("::1", true), ("::", true), ("2001:db8::1", true), ("::ffff:1.2.3.4", true), ("1:2:3:4:5:6:7:8", true), ("fe80::1:2", true),
        ("256.1.1.1", false), ("1.1.1.1.1", false), ("4294967296", false), ("1..1", false), ("+1.1.1.1", false), ("1.1.1.1 ", false),
        ("1:2:3:4:5:6:7:8:9", false), ("1::2::3", false), ("12345::", false), ("::ffff:1.2.3.256", false), ("fe80::1%eth0", false),
        ("1.1.1.1/../admin", false), ("invalid", false),
    ])
    func addressForms(text: String, valid: Bool) {
        #expect(Geolocation.isAddress(text) == valid)
    }
}
