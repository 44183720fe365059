import Foundation
import SluiceCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `sluice serve` end to end: the real binary on a free port, called over loopback.
@Suite(.serialized) struct ServeCommand {
    /// A running `sluice serve` and its port; stopped with SIGTERM.
    final class Server: @unchecked Sendable {
        let process = Process()
        var port = 0
        let errors = Pipe()

        init(transformations: URL, arguments: [String] = [], environment: [String: String] = [:]) throws {
            process.executableURL = sluiceBinary
            if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
            process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--transformations", transformations.path,
                                 "--libraries", transformations.path + "/no-libraries",
                                 "--store", transformations.path + "/.store/registry.sqlite"] + arguments
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            ServerProcesses.started(process)
            // Read standard error until the "listening on" line names the port.
            var text = ""
            let deadline = Date().addingTimeInterval(30)
            while port == 0 && Date() < deadline {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
                if let line = text.split(separator: "\n").first(where: { $0.contains("sluice serve: listening on") }),
                   let port = Int(line.split(separator: ":").last ?? "") {
                    self.port = port
                }
                // With --log-format json: {"message":"listening","port":N,…}.
                if let line = text.split(separator: "\n").first(where: { $0.contains(#""message":"listening""#) }),
                   let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], let port = object["port"] as? Int {
                    self.port = port
                }
            }
            guard port > 0 else {
                process.terminate()
                throw CLIFailure("the server did not start: \(text)")
            }
            logLock.withLock { logText = text }
        }

        private let logLock = ThreadLock()
        private var logText = ""
        private var capturing = false
        /// What the server has written to standard error so far: the start-up lines, and from the
        /// first call on, what follows (read in the background; tests that read ``errors``
        /// themselves never call this).
        var log: String {
            let start = logLock.withLock { () -> Bool in
                defer { capturing = true }
                return !capturing
            }
            if start {
                errors.fileHandleForReading.readabilityHandler = { [weak self] handle in
                    let data = handle.availableData
                    guard let self, !data.isEmpty else { return }
                    self.logLock.withLock { self.logText += String(decoding: data, as: UTF8.self) }
                }
            }
            return logLock.withLock { logText }
        }

        func stop() -> Int32 {
            process.terminate()
            process.waitUntilExit()
            errors.fileHandleForReading.readabilityHandler = nil
            return process.terminationStatus
        }

        /// A test that ends early (a failed #require) still stops its server.
        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            errors.fileHandleForReading.readabilityHandler = nil
        }

        func post(_ path: String, _ body: String, headers: [String: String] = [:]) async throws -> (status: Int, body: String, headers: HTTPURLResponse) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = "POST"
            request.httpBody = Data(body.utf8)
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            return try await send(request)
        }

        func send(_ method: String, _ path: String, _ body: String, headers: [String: String]) async throws -> (status: Int, body: String, headers: HTTPURLResponse) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            request.httpBody = Data(body.utf8)
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            return try await send(request)
        }

        func get(_ path: String) async throws -> (status: Int, body: String, headers: HTTPURLResponse) {
            try await send(URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!))
        }

        private func send(_ request: URLRequest) async throws -> (status: Int, body: String, headers: HTTPURLResponse) {
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            return (http.statusCode, String(decoding: data, as: UTF8.self), http)
        }
    }

    struct CLIFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static func request(version: String, messages: [String]) -> String {
        "[" + messages.enumerated().map { index, message in
            #"{"message":\#(message),"metadata":{"messageId":"m\#(index)","sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"\#(version)"}]}}"#
        }.joined(separator: ",") + "]"
    }

    /// rudder-transformer's memory fencing: past the budget's share, requests that run user code
    /// get 503 with rudder's retry headers; reads still answer.
    @Test func aServiceOverItsMemoryBudgetRefusesWorkWithARetryableAnswer() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        // A 1 MB budget: the service itself is far above 80 % of it.
        let server = try Server(transformations: root, arguments: ["--workers", "1", "--memory-fence-mb", "1"])
        let refused = try await server.post("/customTransform", Self.request(version: "tag", messages: [#"{"n":1}"#]))
        #expect(refused.status == 503)
        #expect(refused.headers.value(forHTTPHeaderField: "X-Rudder-Should-Retry") == "true")
        #expect(refused.headers.value(forHTTPHeaderField: "X-Rudder-Error-Reason") == "memory_fencing")
        #expect(refused.body == "Server is under high memory load. Please try again later.")
        let test = try await server.post("/transformation/test", #"{"events":[{"message":{}}],"trRevCode":{"code":"export function transformEvent(e) { return e; }"}}"#)
        #expect(test.status == 503)
        let health = try await server.get("/health")
        #expect(health.status == 200 && health.body.contains(#""fencing":true"#), "\(health.body)")
        #expect(try await server.get("/features").status == 200)
        let metrics = try await server.get("/metrics")
        #expect(metrics.body.contains(#"sluice_memory_fenced_requests_total{endpoint="/customTransform"} 1"#))
        // Off: the same budget refuses nothing.
        let unfenced = try Server(transformations: root, arguments: ["--workers", "1", "--memory-fence-mb", "1", "--memory-fence", "off"])
        #expect(try await unfenced.post("/customTransform", Self.request(version: "tag", messages: [#"{"n":1}"#])).status == 200)
    }

    /// The series a RudderStack operator's dashboards query, under rudder-transformer's names and labels.
    @Test func metricsUnderRudderTransformersNames() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { if (e.fail) throw new Error('no'); return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--workers", "1"])
        let metadata = #""workspaceId":"w1","transformationId":"t1","sourceType":"HTTP","destinationType":"WEBHOOK","sourceId":"s","destinationId":"d""#
        let body = "[" + [#"{"n":1}"#, #"{"fail":true}"#].enumerated().map { index, message in
            #"{"message":\#(message),"metadata":{"messageId":"m\#(index)",\#(metadata)},"destination":{"Transformations":[{"VersionID":"tag"}]}}"#
        }.joined(separator: ",") + "]"
        #expect(try await server.post("/customTransform", body).status == 200)
        let metrics = try await server.get("/metrics").body
        for series in [
            #"transformer_user_transform_input_events{workspaceId="w1"} 2"#,
            #"transformer_user_transform_output_events{workspaceId="w1"} 1"#,
            #"transformer_user_transform_errors{workspaceId="w1",transformationId="t1",status="400",sourceType="HTTP",destinationType="WEBHOOK"} 1"#,
            #"transformer_user_transform_requests 1"#,
            #"transformer_user_transform_function_latency_count{identifier="v1",errored="true",sourceType="HTTP",destinationType="WEBHOOK",transformationId="t1",workspaceId="w1"} 1"#,
        ] {
            #expect(metrics.contains(series), "\(series)")
        }
    }

    @Test func servesCustomTransformAndHealthAndKeepsServingPastALoopingEvent() async throws {
        let root = try folder([
            "tag/transform.js": "export function transformEvent(e) { if (e.loop) while (true) {} if (e.drop) return; e.tagged = true; return e; }",
            "tag-py/transform.py": "def transformEvent(event, metadata):\n    event['py'] = True\n    return event\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--time-limit-ms", "200"])

        let health = try await server.get("/health")
        #expect(health.status == 200)
        #expect(health.body.contains(#""service":"UP""#))
        // A SQLite store nothing was published to yet: one replica, an empty live set.
        #expect(health.body.contains(#""store":{"kind":"sqlite","location":"sqlite:"#), "\(health.body)")
        #expect(health.body.contains(#""state":"not created","lastChange":null,"liveDigest":"e3b0c44298fc1c14","live":{"transformations":0,"libraries":0}"#))
        let version = try await server.get("/version")
        #expect(version.status == 200 && version.body == SluiceVersion.current)

        let response = try await server.post(
            "/customTransform", Self.request(version: "tag", messages: [#"{"n":1}"#, #"{"loop":true}"#, #"{"drop":true}"#]),
            headers: ["X-Feature-Filter-Code": "?1"])
        #expect(response.status == 200)
        #expect(response.headers.value(forHTTPHeaderField: "apiVersion") == "2")
        #expect(response.headers.value(forHTTPHeaderField: "X-Response-Time").flatMap { Double($0.dropLast(2)) } != nil)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
        #expect(items.map { $0["statusCode"] as? Int } == [298, 200, 400])
        #expect(items[2]["error"] as? String == "time limit of 200 ms exceeded")

        let python = try await server.post("/customTransform", Self.request(version: "tag-py", messages: [#"{"n":1}"#]))
        #expect(python.body.contains(#""py":true"#))

        let metrics = try await server.get("/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers.value(forHTTPHeaderField: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.body.contains(#"sluice_limit_hits_total{transformation="tag",version="sv"#))
        #expect(metrics.body.contains(#"sluice_http_requests_total{endpoint="/customTransform",status="200"} 2"#))
        // /v1 routes by their pattern, unknown paths as `other`: requests cannot mint labels.
        _ = try await server.get("/v1/transformations/some-name")
        _ = try await server.get("/no/such/route")
        let labelled = try await server.get("/metrics").body
        #expect(labelled.contains(#"sluice_http_requests_total{endpoint="/v1/transformations/{name}","#), "\(labelled)")
        #expect(labelled.contains(#"sluice_http_requests_total{endpoint="other",status="404"} 1"#))
        #expect(!labelled.contains("some-name") && !labelled.contains("no/such"))

        let invalid = try await server.post("/customTransform", "[{")
        #expect(invalid.status == 400)
        #expect(invalid.body == #"{"error":"invalid JSON at byte 2: expected a member name in double quotes"}"#)

        #expect(server.stop() == 0)
    }

    @Test func recordsTrafficPerVersionThatReplaysUnchangedAndCatchesAChange() async throws {
        let root = try folder([
            "tag/transform.js": "export function transformEvent(e) { if (e.drop) return; if (e.fail) throw new Error('no'); e.tagged = true; return e; }",
            "other/transform.js": "export function transformEvent(e) { return e; }",
            "candidate/transform.js": "export function transformEvent(e) { if (e.drop) return; if (e.fail) throw new Error('no'); e.tagged = 'yes'; return e; }",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let recordings = root.appendingPathComponent("recordings")
        let server = try Server(transformations: root, arguments: ["--record", recordings.path, "--record-redact", "$.message.secret"])
        let messages = [#"{"n":1,"secret":"s1"}"#, #"{"n":2,"drop":true}"#, #"{"n":3,"fail":true}"#]
        #expect(try await server.post("/customTransform", Self.request(version: "tag", messages: messages)).status == 200)
        #expect(try await server.post("/customTransform", Self.request(version: "other", messages: [#"{"n":4}"#])).status == 200)
        // A version nobody hosts produces 404 items and no recording.
        #expect(try await server.post("/customTransform", Self.request(version: "nope", messages: [#"{"n":5}"#])).status == 200)
        #expect(server.stop() == 0)

        let files = try FileManager.default.contentsOfDirectory(atPath: recordings.path).sorted()
        #expect(files == ["other-0001.ndjson", "tag-0001.ndjson"])
        let tag = recordings.appendingPathComponent("tag-0001.ndjson").path
        let lines = try String(contentsOfFile: tag, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0].contains(#""secret":"[redacted]""#) && !lines[0].contains("s1"))
        #expect(lines[1].contains(#""dropped":true"#))
        #expect(lines[2].contains(#""error":"Error: no"#) && lines[2].contains(#""kind":"exception""#))

        // The secret was redacted in the input and in the recorded output alike, so the same code replays unchanged.
        let same = try sluice(["replay", tag, "--transformation", root.appendingPathComponent("tag").path])
        #expect(same.status == 0, "\(same.stdout)\(same.stderr)")
        #expect(same.stdout.contains("unchanged      3"))
        #expect(same.stdout.contains("candidate      3 events → 1 output, 1 dropped, 1 failed (1 exception)"))
        let changed = try sluice(["replay", tag, "--transformation", root.appendingPathComponent("candidate").path])
        #expect(changed.status == 1)
        #expect(changed.stdout.contains("$[*].output.tagged"))

        // A restarted service adds a file instead of overwriting the first.
        let again = try Server(transformations: root, arguments: ["--record", recordings.path])
        #expect(try await again.post("/customTransform", Self.request(version: "tag", messages: [#"{"n":6}"#])).status == 200)
        #expect(again.stop() == 0)
        #expect(FileManager.default.fileExists(atPath: recordings.appendingPathComponent("tag-0002.ndjson").path))
        #expect(try String(contentsOfFile: tag, encoding: .utf8).split(separator: "\n").count == 3)
    }

    @Test func unknownIdsGoToTheConfigBackendFromTheEnvironmentAndAnOutageIs809() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        // Nothing listens on port 9 of loopback: the backend is unreachable.
        let server = try Server(transformations: root, environment: ["CONFIG_BACKEND_URL": "http://127.0.0.1:9"])
        let outage = try await server.post("/customTransform", Self.request(version: "remote-id", messages: [#"{"n":1}"#]))
        #expect(outage.status == 809)
        #expect(outage.body.contains(#""statusCode":809"#) && outage.body.contains("config backend unreachable"))
        let hosted = try await server.post("/customTransform", Self.request(version: "tag", messages: [#"{"n":1}"#]))
        #expect(hosted.status == 200)
        #expect(server.stop() == 0)
    }

    @Test func theNativeAPIPublishesVersionsRollsBackAndStreamsRunsByName() async throws {
        let root = try folder(["folder-one/transform.js": "export function transformEvent(e) { e.folder = true; return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root)
        func json(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        let created = try await server.post("/v1/transformations", #"{"name":"api-one","language":"javascript","description":"d","code":"export function transformEvent(e) { e.v = 1; return e; }"}"#)
        #expect(created.status == 201)
        let first = try #require(try json(created.body)["liveVersion"] as? String)
        let put = try await server.send("PUT", "/v1/transformations/api-one/code", "export function transformEvent(e) { if (e.drop) return; e.v = 2; return e; }",
                                        headers: ["Content-Type": "text/plain"])
        #expect(put.status == 201)
        let second = try #require(try json(put.body)["version"] as? String)
        let again = try await server.send("PUT", "/v1/transformations/api-one/code", #"{"code":"export function transformEvent(e) { if (e.drop) return; e.v = 2; return e; }"}"#,
                                          headers: ["Content-Type": "application/json"])
        let againVersion = try json(again.body)["version"] as? String
        #expect(again.status == 200 && againVersion == second)
        let broken = try await server.send("PUT", "/v1/transformations/api-one/code", "export function transformEvent(e) {", headers: ["Content-Type": "text/plain"])
        #expect(broken.status == 400 && broken.body.contains("SyntaxError"))
        #expect(try await server.send("PUT", "/v1/transformations/folder-one/code", "x", headers: [:]).status == 409)

        let list = try await server.get("/v1/transformations")
        let names = (try json(list.body)["transformations"] as? [[String: Any]])?.map { "\($0["name"] ?? "")/\($0["source"] ?? "")" }
        #expect(names == ["api-one/api", "folder-one/folder"])

        let run = try await server.post("/v1/transformations/api-one/run", "{\"n\":1}\n{\"drop\":true}\n")
        #expect(run.status == 200)
        #expect(run.headers.value(forHTTPHeaderField: "Content-Type") == "application/x-ndjson")
        let lines = run.body.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[0] == #"{"index":0,"output":{"n":1,"v":2},"metadata":{}}"#)
        #expect(lines[1] == #"{"index":1,"dropped":true,"metadata":{}}"#)
        #expect(lines[2].hasPrefix(#"{"summary":{"transformation":"api-one","version":"\#(second)","events":2,"outputs":1,"dropped":1,"errors":0,"limitHits":0,"#))

        #expect(try await server.post("/v1/transformations/api-one/versions/\(first)/publish", "").status == 200)
        let rolledBack = try await server.post("/customTransform", Self.request(version: "api-one", messages: [#"{"n":1}"#]))
        #expect(rolledBack.body.contains(#""v":1"#))
        let pinned = try await server.post("/v1/transformations/api-one/run?version=\(second)", #"[{"n":5}]"#)
        #expect(pinned.body.contains(#""v":2"#))
        let folderRun = try await server.post("/v1/transformations/folder-one/run", #"[{"n":5}]"#)
        #expect(folderRun.body.contains(#""folder":true"#))
        let versions = try json(try await server.get("/v1/transformations/api-one/versions").body)["versions"] as? [[String: Any]]
        #expect(versions?.map { $0["id"] as? String } == [first, second])
        #expect(versions?.map { $0["live"] as? Bool } == [true, false])
        #expect(server.stop() == 0)

        // The store outlives the process.
        let restarted = try Server(transformations: root)
        let afterRestart = try await restarted.post("/customTransform", Self.request(version: second, messages: [#"{"n":1}"#]))
        #expect(afterRestart.body.contains(#""v":2"#))
        #expect(restarted.stop() == 0)
    }

    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] != nil || ProcessInfo.processInfo.environment["CI"] != nil))
    func twoReplicasOnOnePostgreSQLStoreServeWhatEitherPublishes() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"], "CI must provide SLUICE_TEST_POSTGRES_URL")
        let root = try folder(["placeholder/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try Server(transformations: root, arguments: ["--store", url])
        let second = try Server(transformations: root, arguments: ["--store", url])
        let name = "replicated-\(UUID().uuidString.prefix(8))"
        let created = try await first.post("/v1/transformations", #"{"name":"\#(name)","language":"javascript","code":"export function transformEvent(e) { e.replica = true; return e; }"}"#)
        #expect(created.status == 201, "\(created.body)")
        let listed = try await second.get("/v1/transformations/\(name)")
        #expect(listed.status == 200 && listed.body.contains("e.replica = true"))
        let ran = try await second.post("/customTransform", Self.request(version: name, messages: [#"{"n":1}"#]))
        #expect(ran.body.contains(#""replica":true"#))
        #expect(first.stop() == 0 && second.stop() == 0)
    }

    /// Replicas that agree at once: the second replica is told of the first's publish by the
    /// store (LISTEN/NOTIFY, counted in its metrics), and both `/health`s show the same digest.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"] != nil || ProcessInfo.processInfo.environment["CI"] != nil))
    func aPublishOnOneReplicaIsHeardByTheOtherAndHealthShowsTheLiveDigest() async throws {
        let url = try #require(ProcessInfo.processInfo.environment["SLUICE_TEST_POSTGRES_URL"], "CI must provide SLUICE_TEST_POSTGRES_URL")
        let root = try folder(["placeholder/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try Server(transformations: root, arguments: ["--store", url, "--isolation", "in-process", "--workers", "1"])
        let second = try Server(transformations: root, arguments: ["--store", url, "--isolation", "in-process", "--workers", "1"])
        func store(_ server: Server) async throws -> [String: Any] {
            let health = try await server.get("/health")
            #expect(!health.body.contains("sluice:sluice"), "the store's password never shows")
            let body = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
            return try #require(body["store"] as? [String: Any], "\(health.body)")
        }
        var deadline = Date().addingTimeInterval(30)
        func listening(_ server: Server) async throws -> Bool { try await store(server)["state"] as? String == "listening" }
        while true {
            let (firstListens, secondListens) = (try await listening(first), try await listening(second))
            if firstListens && secondListens { break }
            #expect(Date() < deadline, "both replicas listen")
            if Date() > deadline { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(try await store(second)["kind"] as? String == "postgres")
        #expect((try await store(second)["location"] as? String)?.hasPrefix("postgres://127.0.0.1:5432/") == true)
        let name = "heard-\(UUID().uuidString.prefix(8))"
        let created = try await first.post("/v1/transformations", #"{"name":"\#(name)","language":"javascript","code":"export function transformEvent(e) { e.v = 1; return e; }"}"#)
        #expect(created.status == 201, "\(created.body)")
        #expect(try await second.post("/customTransform", Self.request(version: name, messages: [#"{"n":1}"#])).body.contains(#""v":1"#))
        let digestBefore = try await store(second)["liveDigest"] as? String
        let published = try await first.send("PUT", "/v1/transformations/\(name)/code", "export function transformEvent(e) { e.v = 2; return e; }", headers: ["Content-Type": "text/plain"])
        #expect(published.status == 201, "\(published.body)")
        deadline = Date().addingTimeInterval(5)
        while !(try await second.post("/customTransform", Self.request(version: name, messages: [#"{"n":1}"#])).body.contains(#""v":2"#)) {
            #expect(Date() < deadline, "the second replica serves the new version")
            if Date() > deadline { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let metrics = try await second.get("/metrics").body
        #expect(metrics.contains(#"sluice_store_notifications_total{kind="transformation"}"#), "the change was heard, not polled")
        #expect(metrics.contains("sluice_store_listening 1"), "\(metrics.split(separator: "\n").filter { $0.contains("sluice_store") })")
        // Other suites publish to the same database meanwhile: the two digests agree once both
        // replicas have heard the same changes (within milliseconds; a few seconds allowed).
        var (firstStore, secondStore) = (try await store(first), try await store(second))
        deadline = Date().addingTimeInterval(5)
        while secondStore["liveDigest"] as? String != firstStore["liveDigest"] as? String && Date() < deadline {
            try await Task.sleep(for: .milliseconds(20))
            (firstStore, secondStore) = (try await store(first), try await store(second))
        }
        #expect(secondStore["liveDigest"] as? String == firstStore["liveDigest"] as? String)
        #expect(secondStore["liveDigest"] as? String != digestBefore)
        #expect((secondStore["notifications"] as? Int ?? 0) >= 1 && secondStore["lastChange"] is String)
        #expect(first.stop() == 0 && second.stop() == 0)
    }

    @Test func folderVersionsReloadAndOutliveARestartInTheStore() async throws {
        let root = try folder(["a/transform.js": "export function transformEvent(e) { e.v = 1; return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        func json(_ text: String) throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        }
        let first = try Server(transformations: root, arguments: ["--reload-interval-ms", "100"])
        let v1 = try #require(try json(try await first.get("/v1/transformations/a").body)["liveVersion"] as? String)
        try "export function transformEvent(e) { e.v = 2; return e; }".write(to: root.appendingPathComponent("a/transform.js"), atomically: true, encoding: .utf8)
        var v2: String?
        var listed: [String] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            v2 = try json(try await first.get("/v1/transformations/a").body)["liveVersion"] as? String
            listed = (try json(try await first.get("/v1/transformations/a/versions").body)["versions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            if v2 != v1 && listed.count == 2 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(v2 != nil && v2 != v1, "the edit became a new version without a restart")
        #expect(listed == [v1, try #require(v2)])
        #expect(try await first.post("/customTransform", Self.request(version: "a", messages: [#"{"n":1}"#])).body.contains(#""v":2"#))
        #expect(first.stop() == 0)

        try "export function transformEvent(e) { e.v = 3; return e; }".write(to: root.appendingPathComponent("a/transform.js"), atomically: true, encoding: .utf8)
        let second = try Server(transformations: root)
        #expect(try await second.post("/customTransform", Self.request(version: v1, messages: [#"{"n":1}"#])).body.contains(#""v":1"#))
        #expect(try await second.post("/customTransform", Self.request(version: "a", messages: [#"{"n":1}"#])).body.contains(#""v":3"#))
        let pinned = try await second.post("/v1/transformations/a/run?version=\(try #require(v2))", #"[{"n":1}]"#)
        #expect(pinned.body.contains(#""v":2"#))
        #expect(second.stop() == 0)
    }

    @Test func recordingOptionsNeedARecordFolder() throws {
        let result = try sluice(["serve", "--record-sample", "0.5"])
        #expect(result.status == 64)
        #expect(result.stderr.contains("need --record DIR"))
    }

    @Test func aBodyOverTheLimitIs413() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--max-body-bytes", "1000"])
        let response = try await server.post("/customTransform", Self.request(version: "tag", messages: Array(repeating: #"{"n":1}"#, count: 50)))
        #expect(response.status == 413)
        #expect(response.body == #"{"error":"request body larger than 1000 bytes"}"#)
        #expect(server.stop() == 0)
    }

    /// The pids of `parent`'s children named `sluice` (its worker processes), from /proc.
    static func workerPids(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent
        }
    }

    /// CPU time (user + system ticks) a process has used, from /proc.
    static func cpuTicks(_ pid: Int32) -> Int {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 13 ? (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0) : 0
    }

    @Test func aWorkerKilledMidRequestCostsOnlyThatBatchWhichIsRetryable() async throws {
        let root = try folder([
            "slow/transform.js": "export function transformEvent(e) { const end = Date.now() + 1000; while (Date.now() < end) {} e.done = true; return e; }",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--workers", "1"])
        let health = try await server.get("/health")
        #expect(health.body.contains(#""isolation":"processes""#))
        #expect(health.body.contains(#""seccomp":{"active":true"#))
        // The worker and the spare the pool keeps ready — started and idle (its start-up uses CPU).
        var ready = health.body.contains(#""spares":1"#)
        for _ in 0..<200 where !ready {
            try await Task.sleep(for: .milliseconds(50))
            ready = try await server.get("/health").body.contains(#""spares":1"#)
        }
        let workers = Self.workerPids(of: server.process.processIdentifier)
        #expect(ready && workers.count == 2)

        let body = Self.request(version: "slow", messages: [#"{"n":1}"#, #"{"n":2}"#, #"{"n":3}"#])
        let ticksBefore = Dictionary(uniqueKeysWithValues: workers.map { ($0, Self.cpuTicks($0)) })
        async let inFlight = server.post("/customTransform", body)
        // The busy one (it spins for 1 s per event) is killed once it has used 0.1 s of CPU on the
        // request; the spare takes its place.
        var busy: Int32?
        for _ in 0..<200 where busy == nil {
            try await Task.sleep(for: .milliseconds(20))
            busy = workers.first { Self.cpuTicks($0) - ticksBefore[$0, default: 0] >= 10 }
        }
        let killed = try #require(busy, "no worker took the request")
        kill(killed, SIGKILL)
        let response = try await inFlight
        // rudder-server's retry signal, and every event accounted for with the reason.
        #expect(response.status == 809)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
        #expect(items.map { $0["statusCode"] as? Int } == [500, 500, 500])
        #expect((items[0]["error"] as? String)?.contains("SIGKILL") == true)
        #expect(items.compactMap { ($0["metadata"] as? [String: Any])?["messageId"] as? String } == ["m0", "m1", "m2"])

        // The next request is served by the replacement.
        let next = try await server.post("/customTransform", body)
        #expect(next.status == 200)
        #expect(next.body.components(separatedBy: #""done":true"#).count == 4)
        let replaced = Self.workerPids(of: server.process.processIdentifier)
        #expect(!replaced.isEmpty && !replaced.contains(killed))
        let metrics = try await server.get("/metrics")
        #expect(metrics.body.contains(#"sluice_worker_events_total{event="lost"}"#))
        #expect(server.stop() == 0)
        // Stopping the server stops its workers.
        #expect(Self.workerPids(of: server.process.processIdentifier).isEmpty)
    }

    @Test func getCredentialReadsAnEventsOwnCredentialsElseTheRequestsAndNeverLeaksThem() async throws {
        let root = try folder([
            "creds/transform.js": "export function transformEvent(e) { if (e.fail) throw new Error('key is ' + getCredential('key')); e.key = getCredential('key'); return e; }",
            "creds-py/transform.py": "def transformEvent(event, metadata):\n    if event.get('fail'):\n        raise ValueError('key is ' + getCredential('key'))\n    event['key'] = getCredential('key')\n    return event\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root)
        for version in ["creds", "creds-py"] {
            func item(_ index: Int, _ message: String, credentials: String?) -> String {
                #"{"message":\#(message),"metadata":{"messageId":"m\#(index)","sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"\#(version)"}]}"#
                    + (credentials.map { #","credentials":[{"id":"c","key":"key","value":"\#($0)","isSecret":true}]"# } ?? "") + "}"
            }
            let body = "[" + [
                item(0, #"{"n":0}"#, credentials: "request-secret-1"),
                item(1, #"{"n":1}"#, credentials: "own-secret-2"),
                item(2, #"{"n":2}"#, credentials: nil),
                item(3, #"{"fail":true}"#, credentials: "own-secret-3"),
            ].joined(separator: ",") + "]"
            let response = try await server.post("/customTransform", body)
            #expect(response.status == 200)
            let items = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
            let keys = items.compactMap { ($0["output"] as? [String: Any])?["key"] as? String }
            #expect(keys == ["request-secret-1", "own-secret-2", "request-secret-1"], "\(version): \(response.body)")
            // A secret a transformation puts into an error does not reach the response.
            let error = try #require(items.last?["error"] as? String)
            #expect(error.contains("key is [redacted]") && !error.contains("own-secret-3"), "\(version): \(error)")
        }
        #expect(server.stop() == 0)
        #expect(!String(decoding: server.errors.fileHandleForReading.availableData, as: UTF8.self).contains("secret"))
    }

    @Test func fetchReachesOnlyWhatTheOperatorAllows() async throws {
        let root = try folder([
            "ask/transform.js": "export async function transformEvent(e) { e.health = await fetch(e.url); return e; }",
            "ask-py/transform.py": "def transformEvent(event, metadata):\n    event['health'] = fetch(event['url'])\n    return event\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        for allowed in [false, true] {
            // The service fetches its own /health over loopback: refused unless allowed.
            let server = try Server(transformations: root, environment: allowed ? ["SLUICE_FETCH_ALLOW": "127.0.0.1/32"] : [:])
            for version in ["ask", "ask-py"] {
                let response = try await server.post("/customTransform", Self.request(version: version, messages: [#"{"url":"http://127.0.0.1:\#(server.port)/health"}"#]))
                let items = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
                let health = (items.first?["output"] as? [String: Any])?["health"]
                if allowed {
                    #expect((health as? [String: Any])?["service"] as? String == "UP", "\(version): \(response.body)")
                } else {
                    #expect(health as? String == "ERROR", "\(version): \(response.body)")
                }
            }
            let metrics = try await server.get("/metrics")
            #expect(metrics.body.contains(allowed ? #"sluice_fetch_total{outcome="ok"} 2"# : #"sluice_fetch_total{outcome="refused"} 2"#))
            #expect(server.stop() == 0)
        }
    }
}

/// Every `sluice serve` the tests started: one still running when the test process exits (held by
/// a task whose request never returned, so its `Server` was never released) is killed then, so no
/// server outlives the test run.
enum ServerProcesses {
    private static let lock = ThreadLock()
    nonisolated(unsafe) private static var processes: [Process] = []
    nonisolated(unsafe) private static var registered = false

    static func started(_ process: Process) {
        lock.withLock {
            processes.append(process)
            if !registered {
                registered = true
                atexit { ServerProcesses.killRunning() }
            }
        }
    }

    private static func killRunning() {
        for process in lock.withLock({ processes }) where process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }
}

