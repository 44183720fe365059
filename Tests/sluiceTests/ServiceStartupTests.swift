import Foundation
import SluiceCore
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// `sluice serve` as an operator meets it: hot reload that keeps the last good version, start-up
/// errors, JSON logs, `/metrics` and the API store — the real binary on loopback.
@Suite(.serialized) struct ServiceOperation {
    typealias Server = ServeCommand.Server

    static func json(_ text: String) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "not a JSON object: \(text)")
    }

    /// The lines of `text` that are complete (a running server may be in the middle of one).
    static func completeLines(_ text: String) -> [String] {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        lines.removeLast()
        return lines.filter { !$0.isEmpty }
    }

    /// Polls `condition` every 50 ms for up to 15 s.
    static func eventually(_ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(50))
        }
        return false
    }

    @Test func aChangeThatDoesNotCompileIsReportedAndTheLastGoodVersionKeepsRunning() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { e.v = 1; return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--workers", "1", "--reload-interval-ms", "100"])
        _ = server.log  // from here on, everything it writes
        let request = ServeCommand.request(version: "tag", messages: [#"{"n":1}"#])
        #expect(try await server.post("/customTransform", request).body.contains(#""v":1"#))
        #expect(try Self.json(try await server.get("/health").body)["reloadErrors"] as? [Any] != nil)

        let file = root.appendingPathComponent("tag/transform.js")
        try "export function transformEvent(e) { e.v = ; return e; }".write(to: file, atomically: true, encoding: .utf8)
        var errors: [[String: Any]] = []
        #expect(try await Self.eventually {
            errors = try Self.json(try await server.get("/health").body)["reloadErrors"] as? [[String: Any]] ?? []
            return !errors.isEmpty
        }, "/health lists the reload error")
        let error = try #require(errors.first)
        #expect(error["transformation"] as? String == "tag")
        #expect(error["file"] as? String == file.path)
        #expect((error["error"] as? String)?.contains("SyntaxError") == true, "\(error)")
        #expect((error["serving"] as? String)?.hasPrefix("sv") == true)
        #expect(error["since"] as? String != nil)
        // Requests by name still get the last version that compiled.
        #expect(try await server.post("/customTransform", request).body.contains(#""v":1"#))
        let metrics = try await server.get("/metrics").body
        #expect(metrics.contains("sluice_reload_errors 1"))
        #expect(metrics.contains(#"sluice_reload_failures_total{transformation="tag"} 1"#))
        #expect(try await Self.eventually { server.log.contains("does not load or compile") })
        let warning = server.log.split(separator: "\n").first { $0.contains("does not load or compile") }.map(String.init) ?? ""
        #expect(warning.contains("warning") && warning.contains("transformation.name=tag") && warning.contains(file.path) && warning.contains("SyntaxError"),
                "\(warning)")

        try "export function transformEvent(e) { e.v = 2; return e; }".write(to: file, atomically: true, encoding: .utf8)
        #expect(try await Self.eventually {
            (try Self.json(try await server.get("/health").body)["reloadErrors"] as? [Any])?.isEmpty == true
        }, "the error clears once the file is fixed")
        #expect(try await server.post("/customTransform", request).body.contains(#""v":2"#))
        #expect(try await server.get("/metrics").body.contains("sluice_reload_errors 0"))
        #expect(server.stop() == 0)
    }

    /// A port another process listens on is reported at once, before any worker starts.
    @Test func aPortInUseIsOneClearLineBeforeWorkersStart() throws {
        let listener = try LoopbackListener()
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        for format in ["text", "json"] {
            let started = Date()
            let result = try sluice(["serve", "--host", "127.0.0.1", "--port", "\(listener.port)", "--transformations", root.path,
                                     "--libraries", root.path + "/none", "--store", root.path + "/.store/registry.sqlite", "--log-format", format])
            #expect(result.status != 0)
            let lines = result.stderr.split(separator: "\n")
            #expect(lines.count == 1, "\(result.stderr)")
            let line = String(lines.first ?? "")
            #expect(line.contains("127.0.0.1:\(listener.port)") && line.contains("already in use"), "\(line)")
            #expect(!result.stderr.contains("worker"), "no worker process started")
            #expect(Date().timeIntervalSince(started) < 5)
            if format == "json" {
                let object = try Self.json(line)
                #expect(object["level"] as? String == "critical")
            }
        }
        #expect(!FileManager.default.fileExists(atPath: root.path + "/.store"))
    }

    /// `--log-format json`: every line is a JSON object from the first, with numbers and
    /// booleans typed; confinement details at debug, one summary at info.
    @Test func jsonLogsAreJSONFromTheFirstLineWithTypedValues() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--workers", "1", "--log-format", "json"])
        _ = server.log  // from here on, everything it writes
        #expect(try await server.post("/customTransform", ServeCommand.request(version: "tag", messages: [#"{"n":1}"#])).status == 200)
        try await Task.sleep(for: .milliseconds(300))
        let lines = Self.completeLines(server.log)
        #expect(server.stop() == 0)
        #expect(lines.count >= 4)
        let objects = try lines.map { try Self.json($0) }
        #expect(objects.allSatisfy { $0["time"] is String && $0["level"] is String && $0["message"] is String })
        let listening = try #require(objects.first { $0["message"] as? String == "listening" })
        #expect(listening["port"] as? Int == server.port && listening["address"] as? String == "127.0.0.1")
        let serving = try #require(objects.first { $0["message"] as? String == "serving" })
        #expect(serving["transformations"] as? Int == 1 && serving["workers"] as? Int == 1)
        let started = try #require(objects.first { $0["message"] as? String == "worker started" })
        #expect(started["worker.pid"] as? Int != nil && started["duration_ms"] as? Int != nil)
        let confined = try #require(objects.first { $0["message"] as? String == "worker processes confined" })
        #expect(confined["level"] as? String == "info")
        #expect((confined["confinement.active"] as? [String])?.contains("seccomp") == true)
        #expect(!objects.contains { $0["message"] as? String == "worker confinement" && $0["level"] as? String == "info" },
                "each mechanism's detail is at debug")
        let debug = try Server(transformations: root, arguments: ["--workers", "1", "--log-format", "json", "--log-level", "debug"])
        let debugLines = Self.completeLines(debug.log)
        #expect(debug.stop() == 0)
        let mechanism = try debugLines.map { try Self.json($0) }.first { $0["message"] as? String == "worker confinement" }
        #expect(mechanism?["level"] as? String == "debug" && mechanism?["active"] as? Bool != nil)
    }

    /// `/metrics`: a `# HELP` line for every Sluice family, `/v1` runs counted, and the compile
    /// and cache series reported from the worker processes.
    @Test func metricsHaveHelpCountV1RunsAndWorkersCompiles() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try Server(transformations: root, arguments: ["--workers", "1"])
        let request = ServeCommand.request(version: "tag", messages: [#"{"n":1}"#])
        #expect(try await server.post("/customTransform", request).status == 200)
        #expect(try await server.post("/customTransform", request).status == 200)
        let created = try await server.post("/v1/transformations", #"{"name":"api","language":"javascript","code":"export function transformEvent(e) { e.api = true; return e; }"}"#)
        #expect(created.status == 201, "\(created.body)")
        let ran = try await server.post("/v1/transformations/api/run", #"[{"n":1},{"n":2}]"#)
        #expect(ran.status == 200 && ran.body.contains(#""api":true"#))
        let metrics = try await server.get("/metrics").body
        let lines = metrics.split(separator: "\n").map(String.init)
        let families = Set(lines.filter { $0.hasPrefix("# TYPE sluice_") }.map { String($0.split(separator: " ")[2]) })
        let helped = Set(lines.filter { $0.hasPrefix("# HELP sluice_") }.map { String($0.split(separator: " ")[2]) })
        #expect(!families.isEmpty && families.isSubset(of: helped), "no HELP for \(families.subtracting(helped).sorted())")
        #expect(metrics.contains(#"sluice_v1_runs_total{transformation="api"} 1"#))
        #expect(lines.contains { $0.hasPrefix(#"sluice_events_in_total{transformation="api""#) && $0.hasSuffix(" 2") }, "\(metrics)")
        // From the worker process: one compile of each version, a miss then hits.
        #expect(lines.contains { $0.hasPrefix(#"sluice_compile_duration_seconds_count{transformation="tag""#) && $0.hasSuffix(" 1") }, "\(metrics)")
        #expect(lines.contains { $0.hasPrefix(#"sluice_compiled_cache_lookups_total{result="miss"}"#) })
        #expect(lines.contains { $0.hasPrefix(#"sluice_compiled_cache_lookups_total{result="hit"}"#) })
        #expect(server.stop() == 0)
    }

    /// The API's SQLite store is created by the first publish (not by starting), and where it
    /// is, is logged when it is created and when it is opened.
    @Test func theStoreIsCreatedByTheFirstPublishAndItsLocationLogged() async throws {
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let store = root.path + "/.store/registry.sqlite"
        let server = try Server(transformations: root, arguments: ["--workers", "1"])
        #expect(try await server.post("/customTransform", ServeCommand.request(version: "tag", messages: [#"{"n":1}"#])).status == 200)
        #expect(try await server.get("/v1/transformations").status == 200)
        #expect(!FileManager.default.fileExists(atPath: store), "serving and reading create no store")
        let created = try await server.post("/v1/transformations", #"{"name":"api","language":"javascript","code":"export function transformEvent(e) { return e; }"}"#)
        #expect(created.status == 201)
        #expect(FileManager.default.fileExists(atPath: store))
        #expect(try await Self.eventually { server.log.contains("API store created") && server.log.contains(store) })
        #expect(server.stop() == 0)
        let reopened = try Server(transformations: root, arguments: ["--workers", "1"])
        #expect(reopened.log.contains("API store opened") && reopened.log.contains(store), "\(reopened.log)")
        // The folder's version was archived with that first publish.
        let versions = try Self.json(try await reopened.get("/v1/transformations/tag/versions").body)["versions"] as? [[String: Any]]
        #expect(versions?.count == 1)
        #expect(reopened.stop() == 0)
    }
}

/// A TCP listener on a free loopback port (another process's, as far as `sluice serve` can tell).
final class LoopbackListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 1) == 0 else {
            close(fd)
            throw ServeCommand.CLIFailure("cannot listen: errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        descriptor = fd
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
