import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceServer
import SluiceTestSupport
import Testing

/// A small rudder config backend on a free loopback port: records by path, a count of requests
/// per path, and switches to make it fail. It runs on its own threads (not the cooperative pool),
/// because the handler under test blocks its caller while it waits for the backend.
final class FakeConfigBackend: @unchecked Sendable {
    private let lock = NSLock()
    private var hits: [String: Int] = [:]
    private var _records: [String: String] = [:]
    private var _failWith: Int?
    private var _delay: Duration = .zero
    private var server: LoopbackHTTPServer?

    var records: [String: String] { get { lock.withLock { _records } } set { lock.withLock { _records = newValue } } }
    var failWith: Int? { get { lock.withLock { _failWith } } set { lock.withLock { _failWith = newValue } } }
    var delay: Duration { get { lock.withLock { _delay } } set { lock.withLock { _delay = newValue } } }

    func hitCount(_ path: String) -> Int { lock.withLock { hits[path] ?? 0 } }

    func start() async throws {
        server = LoopbackHTTPServer { [self] request, connection in
            let key = request.path + "?" + (request.target.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? "")
            let (status, body, delay): (Int?, String?, Duration) = lock.withLock {
                hits[key, default: 0] += 1
                return (_failWith, _records[key], _delay)
            }
            if delay > .zero { usleep(UInt32(delay / .microseconds(1))) }
            if let status { return connection.respond("\(status) Failing") }
            guard let body else { return connection.respond("404 Not Found") }
            connection.respond("200 OK", ["Content-Type: application/json"], Array(body.utf8))
        }
    }

    func stop() { server?.stop() }
    var url: String { server?.url ?? "http://127.0.0.1:0" }
}

@Suite(.serialized) struct ConfigBackendTests {
    static func request(_ version: String, libraries: [String] = []) -> [UInt8] {
        let libraryList = libraries.map { #"{"VersionID":"\#($0)"}"# }.joined(separator: ",")
        return Array(#"[{"message":{"n":1},"metadata":{"sourceId":"s","destinationId":"d","messageId":"m1"},"destination":{"Transformations":[{"VersionID":"\#(version)"}]},"libraries":[\#(libraryList)]}]"#.utf8)
    }

    func handler(_ backend: FakeConfigBackend, timeout: Duration = .seconds(5), hosted: String? = nil,
                 metrics: ServiceMetrics? = nil) throws -> (CustomTransformHandler, ConfigBackend) {
        let root = TemporaryFolder.path("sluice-cb")
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        if let hosted {
            try FileManager.default.createDirectory(atPath: root + "/tv1", withIntermediateDirectories: true)
            try hosted.write(toFile: root + "/tv1/transform.js", atomically: false, encoding: .utf8)
        }
        let registry = try Registry(transformationsRoot: root, librariesRoot: root + "/none", languages: Engines.languages)
        let client = try ConfigBackend(baseURL: backend.url + "/", timeout: timeout, languages: Engines.languages, transport: ConfigBackend.fetcherTransport())
        let runtime = Runtime(libraries: NoLibraries())
        let versions = ChainedVersionSources([registry, client], observer: { metrics?.versionLookup(from: $0, $1) })
        let resolver = ServiceResolver(versions: versions, limits: .defaults)
        return (CustomTransformHandler(executor: InProcessExecutor(runtime: runtime), resolver: resolver), client)
    }

    func text(_ response: WireResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func fetchesTheVersionItsLibrariesAndBuiltInsOnceAndCachesThem() async throws {
        let backend = FakeConfigBackend()
        backend.records = [
            "/transformation/getByVersionId?versionId=tv1": #"{"code":"import { double } from \"getFinanceData\";\nimport { stamp } from \"@rs/stamp/v2\";\nexport function transformEvent(e) { e.n = double(e.n); return stamp(e); }","codeVersion":"1","language":"javascript","name":"Finance","versionId":"tv1","id":"t1","workspaceId":"w"}"#,
            "/transformationLibrary/getByVersionId?versionId=lv1": #"{"code":"export function double(n) { return n * 2; }","name":"Get Finance Data","versionId":"lv1"}"#,
            "/rudderstackTransformationLibraries/stamp?version=v2": #"{"code":"export function stamp(e) { e.stamped = true; return e; }","name":"stamp","importName":"@rs/stamp/v2","versionId":"rs2"}"#,
        ]
        try await backend.start()
        defer { backend.stop() }
        let (handler, client) = try handler(backend)
        for _ in 0..<3 {
            let response = handler.handle(body: Self.request("tv1", libraries: ["lv1"]), filterCode: false)
            #expect(response.status == 200)
            #expect(text(response) == #"[{"output":{"n":2,"stamped":true},"metadata":{"sourceId":"s","destinationId":"d","messageId":"m1"},"statusCode":200}]"#)
        }
        #expect(backend.hitCount("/transformation/getByVersionId?versionId=tv1") == 1)
        #expect(backend.hitCount("/transformationLibrary/getByVersionId?versionId=lv1") == 1)
        #expect(backend.hitCount("/rudderstackTransformationLibraries/stamp?version=v2") == 1)
        #expect(client.requestCount == 3)
    }

    /// rudder imports a library by lodash's camelCase of its name: "UAParser" is uaParser.
    @Test func aLibraryWithInnerCapitalsIsImportedByLodashsCamelCase() async throws {
        let backend = FakeConfigBackend()
        backend.records = [
            "/transformation/getByVersionId?versionId=tv1": #"{"code":"import { parse } from \"uaParser\";\nexport function transformEvent(e) { e.parsed = parse(); return e; }","codeVersion":"1","language":"javascript","name":"UA","versionId":"tv1"}"#,
            "/transformationLibrary/getByVersionId?versionId=lv1": #"{"code":"export function parse() { return 'ok'; }","name":"UAParser","versionId":"lv1"}"#,
        ]
        try await backend.start()
        defer { backend.stop() }
        let (handler, _) = try handler(backend)
        let response = handler.handle(body: Self.request("tv1", libraries: ["lv1"]), filterCode: false)
        #expect(text(response) == #"[{"output":{"n":1,"parsed":"ok"},"metadata":{"sourceId":"s","destinationId":"d","messageId":"m1"},"statusCode":200}]"#)
    }

    /// The test routes fetch `libraryVersionIDs` from the config backend, as /customTransform does.
    @Test func theTestRoutesFetchTheirLibraryVersions() async throws {
        let backend = FakeConfigBackend()
        backend.records = [
            "/transformationLibrary/getByVersionId?versionId=lv1": #"{"code":"export function double(n) { return n * 2; }","name":"my-lib v2","versionId":"lv1"}"#,
        ]
        try await backend.start()
        defer { backend.stop() }
        let client = try ConfigBackend(baseURL: backend.url, timeout: .seconds(5), languages: Engines.languages, transport: ConfigBackend.fetcherTransport())
        var tooling = ToolingHandler(executor: InProcessExecutor(), libraries: NoLibraries())
        tooling.libraryVersions = { ids, language in try client.libraries(versionIDs: ids, language: language) }
        let code = #"import { double } from \"myLibV2\";\nexport function transformEvent(e) { return { n: double(e.n) }; }"#
        let test = tooling.testTransformation(body: Array(#"{"events":[{"message":{"n":2}}],"trRevCode":{"code":"\#(code)","language":"javascript"},"libraryVersionIDs":["lv1"]}"#.utf8))
        #expect(test.status == 200 && text(test) == #"{"transformedEvents":[{"n":4}],"logs":[]}"#, "\(text(test))")
        let run = tooling.testRun(body: Array(#"{"input":[{"message":{"n":3},"metadata":{"messageId":"m"}}],"codeRevision":{"code":"\#(code)","language":"javascript"},"dependencies":{"libraries":[{"versionId":"lv1"}]}}"#.utf8))
        #expect(run.status == 200 && text(run) == #"{"transformedEvents":[{"transformedEvent":{"n":6},"metadata":{"messageId":"m"}}],"logs":[]}"#, "\(text(run))")
        let missing = tooling.testTransformation(body: Array(#"{"events":[{"message":{"n":2}}],"trRevCode":{"code":"\#(code)"},"libraryVersionIDs":["nope"]}"#.utf8))
        #expect(missing.status == 400 && text(missing).contains("nope"), "\(text(missing))")
    }

    /// `sluice_config_backend_lookups_total` counts the config backend's answers by outcome (a
    /// record without code is invalid: a 400 item); versions the registry holds are not counted.
    @Test func theBackendsLookupsAreCountedByOutcome() async throws {
        let backend = FakeConfigBackend()
        backend.records = [
            "/transformation/getByVersionId?versionId=tv2": #"{"code":"export function transformEvent(e) { return e; }","codeVersion":"1","language":"javascript","name":"T"}"#,
            "/transformation/getByVersionId?versionId=tv3": #"{"language":"javascript","name":"No code"}"#,
        ]
        try await backend.start()
        defer { backend.stop() }
        let metrics = ServiceMetrics()
        let (handler, _) = try handler(backend, hosted: "export function transformEvent(e) { return e; }", metrics: metrics)
        #expect(handler.handle(body: Self.request("tv1"), filterCode: false).status == 200)
        #expect(handler.handle(body: Self.request("tv2"), filterCode: false).status == 200)
        #expect(handler.handle(body: Self.request("tv2"), filterCode: false).status == 200)
        #expect(text(handler.handle(body: Self.request("nope"), filterCode: false)).contains(#""statusCode":404"#))
        #expect(text(handler.handle(body: Self.request("tv3"), filterCode: false)).contains(#""statusCode":400"#))
        backend.failWith = 503
        #expect(handler.handle(body: Self.request("tv9"), filterCode: false).status == 809)
        let exposition = String(decoding: metrics.exposition(), as: UTF8.self)
        for line in [#"sluice_config_backend_lookups_total{outcome="ok"} 2"#, #"sluice_config_backend_lookups_total{outcome="not_found"} 1"#,
                     #"sluice_config_backend_lookups_total{outcome="invalid"} 1"#, #"sluice_config_backend_lookups_total{outcome="unavailable"} 1"#] {
            #expect(exposition.contains(line), "\(line) in \(exposition)")
        }
    }

    @Test func aVersionTheRegistryHoldsNeverAsksTheBackend() async throws {
        let backend = FakeConfigBackend()
        try await backend.start()
        defer { backend.stop() }
        let (handler, client) = try handler(backend, hosted: "export function transformEvent(e) { e.local = true; return e; }")
        #expect(text(handler.handle(body: Self.request("tv1"), filterCode: false)).contains(#""local":true"#))
        #expect(client.requestCount == 0)
    }

    @Test func anUnknownVersionIsAPerEvent404() async throws {
        let backend = FakeConfigBackend()
        try await backend.start()
        defer { backend.stop() }
        let response = try handler(backend).0.handle(body: Self.request("nope"), filterCode: false)
        #expect(response.status == 200)
        #expect(text(response) == #"[{"statusCode":404,"error":"Transformation version nope not found","metadata":{"sourceId":"s","destinationId":"d","messageId":"m1"}}]"#)
    }

    /// issue 12, row 7: as rudder-transformer, JavaScript whose codeVersion is not the string "1"
    /// (missing, "0", the number 1) is a legacy transform(events) script; Python never is.
    @Test func javascriptIsLegacyUnlessItsCodeVersionIsTheStringOne() async throws {
        let legacy = #"function transform(events) { return events.map(e => ({ ...e, legacy: true })); }"#
        let backend = FakeConfigBackend()
        backend.records = [
            "/transformation/getByVersionId?versionId=missing": #"{"code":\#(JSONString.encode(legacy)),"language":"javascript","name":"L"}"#,
            "/transformation/getByVersionId?versionId=number": #"{"code":\#(JSONString.encode(legacy)),"codeVersion":1,"language":"javascript","name":"L"}"#,
            "/transformation/getByVersionId?versionId=zero": #"{"code":\#(JSONString.encode(legacy)),"codeVersion":"0","language":"javascript","name":"L"}"#,
            "/transformation/getByVersionId?versionId=python": #"{"code":"def transformEvent(event, metadata):\n    return event\n","language":"pythonfaas","name":"P"}"#,
        ]
        try await backend.start()
        defer { backend.stop() }
        let (handler, _) = try handler(backend)
        for version in ["missing", "number", "zero"] {
            let response = handler.handle(body: Self.request(version), filterCode: false)
            let body = text(response).replacingOccurrences(of: "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", with: "<uuid>", options: .regularExpression)
            #expect(body == #"[{"output":{"n":1,"legacy":true},"metadata":{"sourceId":"s","destinationId":"d","messageId":"<uuid>"},"statusCode":200}]"#, "\(version)")
        }
        #expect(text(handler.handle(body: Self.request("python"), filterCode: false)) == #"[{"output":{"n":1},"metadata":{"sourceId":"s","destinationId":"d","messageId":"m1"},"statusCode":200}]"#)
    }

    @Test func aBackend5xxIs809AndIsNotCached() async throws {
        let backend = FakeConfigBackend()
        backend.records = ["/transformation/getByVersionId?versionId=tv1": #"{"code":"export function transformEvent(e) { return e; }","codeVersion":"1","language":"javascript","name":"T"}"#]
        backend.failWith = 503
        try await backend.start()
        defer { backend.stop() }
        let (handler, _) = try handler(backend)
        let failed = handler.handle(body: Self.request("tv1"), filterCode: false)
        #expect(failed.status == 809)
        #expect(text(failed) == #"[{"statusCode":809,"error":"config backend answered 503 fetching Transformation version tv1","metadata":{"sourceId":"s","destinationId":"d","messageId":"m1"}}]"#)
        backend.failWith = nil
        #expect(handler.handle(body: Self.request("tv1"), filterCode: false).status == 200, "the retry succeeds once the backend recovers")
    }

    @Test func anUnreachableOrSlowBackendIs809() async throws {
        let backend = FakeConfigBackend()
        backend.records = ["/transformation/getByVersionId?versionId=tv1": #"{"code":"export function transformEvent(e) { return e; }","codeVersion":"1","language":"javascript","name":"T"}"#]
        backend.delay = .seconds(3)
        try await backend.start()
        let (slow, _) = try handler(backend, timeout: .milliseconds(300))
        let start = ContinuousClock.now
        let response = slow.handle(body: Self.request("tv1"), filterCode: false)
        #expect(response.status == 809)
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(ContinuousClock.now - start >= .milliseconds(250), "\(ContinuousClock.now - start)")
        #expect(text(response).contains("did not answer within 300 ms"), "\(text(response))")
        backend.stop()
        try await Task.sleep(for: .milliseconds(200))
        let (unreachable, _) = try handler(backend)
        let closed = unreachable.handle(body: Self.request("tv1"), filterCode: false)
        #expect(closed.status == 809 && text(closed).contains("config backend unreachable"))
    }

    @Test func pythonfaasRunsAsPythonWithCamelCaseLibraries() async throws {
        let backend = FakeConfigBackend()
        backend.records = [
            "/transformation/getByVersionId?versionId=py1": #"{"code":"from addTag import add\n\ndef transformEvent(event, metadata):\n    return add(event)\n","language":"pythonfaas","name":"Py"}"#,
            "/transformationLibrary/getByVersionId?versionId=lib": #"{"code":"def add(event):\n    event['tag'] = 1\n    return event\n","name":"add tag"}"#,
        ]
        try await backend.start()
        defer { backend.stop() }
        let response = try handler(backend).0.handle(body: Self.request("py1", libraries: ["lib"]), filterCode: false)
        #expect(text(response).contains(#""tag":1"#), "\(text(response))")
    }

    @Test func theURLMustBeHTTP() {
        #expect(throws: LoadError.self) { try ConfigBackend(baseURL: "ftp://example.com", languages: Engines.languages, transport: ConfigBackend.fetcherTransport()) }
        #expect(throws: LoadError.self) { try ConfigBackend(baseURL: "not a url", languages: Engines.languages, transport: ConfigBackend.fetcherTransport()) }
    }
}
