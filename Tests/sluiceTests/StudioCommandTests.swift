import Foundation
import SluiceCore
import SluiceTestSupport
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// Studio's routes end to end: the real `sluice studio` / `sluice serve` binary on a project
/// folder, called over loopback (docs/studio.md).
@Suite(.serialized) struct StudioCommand {
    /// A running `sluice studio DIR` (or `sluice serve …`) and the Studio URL it printed.
    final class Studio: @unchecked Sendable {
        let process = Process()
        var base = ""
        var port = 0
        private let lock = ThreadLock()
        private var errorLog = ""
        /// What the service wrote to standard error while starting.
        var errorText: String { lock.withLock { errorLog } }

        init(arguments: [String], environment: [String: String] = [:], expectURL: Bool = true) throws {
            process.executableURL = sluiceBinary
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.arguments = arguments
            let output = Pipe(), errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
            ServerProcesses.started(process)
            var text = ""
            let deadline = Date().addingTimeInterval(60)
            // Standard error names the port ("listening on HOST:PORT"); standard output the Studio URL.
            errors.fileHandleForReading.readabilityHandler = { [self] handle in
                let data = handle.availableData
                if !data.isEmpty { lock.withLock { errorLog += String(decoding: data, as: UTF8.self) } }
            }
            while Date() < deadline {
                if expectURL {
                    let chunk = output.fileHandleForReading.availableData
                    if chunk.isEmpty { break }
                    text += String(decoding: chunk, as: UTF8.self)
                    if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("Studio: ") }) {
                        base = String(line.dropFirst("Studio: ".count)).trimmingCharacters(in: .whitespaces)
                        port = Int(base.split(separator: ":").last?.split(separator: "/").first ?? "") ?? 0
                        break
                    }
                } else {
                    if let line = errorText.split(separator: "\n").first(where: { $0.contains("listening on") }),
                       let found = Int(line.split(separator: ":").last ?? "") {
                        port = found
                        base = "http://127.0.0.1:\(found)/"
                        break
                    }
                    Thread.sleep(forTimeInterval: 0.05)
                }
            }
            errors.fileHandleForReading.readabilityHandler = nil
            guard port > 0 else {
                process.terminate()
                throw StudioFailure("the service did not start: \(text) \(errorText)")
            }
        }

        deinit {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
        }

        func request(_ method: String, _ path: String, body: String? = nil, headers: [String: String] = [:]) async throws
            -> (status: Int, body: String, headers: HTTPURLResponse) {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
            request.httpMethod = method
            if let body { request.httpBody = Data(body.utf8) }
            for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
            let (data, response) = try await URLSession.shared.data(for: request)
            let http = try #require(response as? HTTPURLResponse)
            return (http.statusCode, String(decoding: data, as: UTF8.self), http)
        }

        func get(_ path: String) async throws -> (status: Int, body: String, headers: HTTPURLResponse) {
            try await request("GET", path)
        }

        /// GET `path` as a JSON object (the status must be 200).
        func object(_ path: String) async throws -> [String: Any] {
            let answer = try await get(path)
            #expect(answer.status == 200, "\(path): \(answer.body)")
            return try #require(try JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])
        }

        /// POST a run the way the page does: same origin, with the session's token.
        func run(_ body: [String: Any], token: String) async throws -> (status: Int, object: [String: Any], text: String) {
            try await post("/studio/api/run", body, token: token)
        }

        /// POST `body` to `path` the way the page does.
        func post(_ path: String, _ body: [String: Any], token: String) async throws -> (status: Int, object: [String: Any], text: String) {
            let data = try JSONSerialization.data(withJSONObject: body)
            let answer = try await request("POST", path, body: String(decoding: data, as: UTF8.self), headers: [
                "Content-Type": "application/json", "X-Sluice-Studio-Token": token,
                "Origin": "http://127.0.0.1:\(port)", "Sec-Fetch-Site": "same-origin",
            ])
            let object = (try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any]) ?? [:]
            return (answer.status, object, answer.body)
        }
    }

    struct StudioFailure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    static let secret = "s3cret-credential-value-1234"

    /// A project folder: a transformation that splits, drops and logs, with a passing case and a
    /// case whose credential value must never reach the browser; a library it imports.
    static func project() throws -> String {
        try TemporaryFolder.create([
            "transformations/shaper/transform.js": """
            import { tag } from "tagging";

            export function transformEvent(event, metadata) {
              if (event.event === "drop") return null;
              if (event.event === "split") return [tag({ ...event, part: 1 }), tag({ ...event, part: 2 })];
              if (event.event === "throw") throw new Error("thrown on purpose");
              log("kept " + event.messageId + " with key " + (getCredential("apiKey") ? "set" : "unset"));
              return tag(event);
            }

            """,
            "transformations/shaper/tests/sample/input.json": #"""
            [{"type": "track", "event": "keep", "messageId": "m-1"},
             {"type": "track", "event": "split", "messageId": "m-2"},
             {"type": "track", "event": "drop", "messageId": "m-3"}]
            """#,
            "transformations/shaper/tests/sample/expected.ndjson": """
            {"log":"kept m-1 with key set","messageId":"m-1"}
            {"output":{"type":"track","event":"keep","messageId":"m-1","tagged":true},"metadata":{"messageId":"m-1"}}
            {"output":{"type":"track","event":"split","messageId":"m-2","part":1,"tagged":true},"metadata":{"messageId":"m-2"}}
            {"output":{"type":"track","event":"split","messageId":"m-2","part":2,"tagged":true},"metadata":{"messageId":"m-2"}}
            {"dropped":true,"metadata":{"messageId":"m-3"}}

            """,
            "transformations/shaper/tests/sample/case.json": #"{"credentials": {"apiKey": "\#(secret)"}}"#,
            "libraries/tagging.js": "export function tag(event) { return { ...event, tagged: true }; }\n",
        ], prefix: "sluice-studio")
    }

    @Test func studioServesItsPageWithASecurityPolicyAndBrowsesTheProject() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        #expect(studio.base.hasPrefix("http://127.0.0.1:"))
        let page = try await studio.get("/")
        #expect(page.status == 200)
        #expect(page.body.contains("<script type=\"module\" src=\"/studio/assets/studio.js\"></script>"))
        let policy = try #require(page.headers.value(forHTTPHeaderField: "Content-Security-Policy"))
        #expect(policy.contains("default-src 'self'") && policy.contains("script-src 'self'") && !policy.contains("unsafe-inline"))
        #expect(!page.body.contains("http://") && !page.body.contains("https://"), "the page names no other origin")
        for name in ["studio.js", "api.js", "editor.js", "highlight.js", "studio.css", "dom.js", "recordings.js", "recordings.css"] {
            let asset = try await studio.get("/studio/assets/\(name)")
            #expect(asset.status == 200, "\(name)")
            #expect(asset.headers.value(forHTTPHeaderField: "Content-Security-Policy") == policy)
            // The SVG namespace is a name, not an address anything is fetched from.
            let text = asset.body.replacingOccurrences(of: "\"http://www.w3.org/2000/svg\"", with: "")
            #expect(!text.contains("https://") && !text.contains("http://"), "\(name) fetches nothing from elsewhere")
        }
        #expect(try await studio.get("/studio/assets/nope.js").status == 404)

        let session = try await studio.object("/studio/api/session")
        let token = try #require(session["token"] as? String)
        #expect(token.count == 64)
        let catalog = try await studio.object("/studio/api/catalog")
        let transformations = try #require(catalog["transformations"] as? [[String: Any]])
        let shaper = try #require(transformations.first { $0["name"] as? String == "shaper" })
        #expect(shaper["language"] as? String == "javascript" && shaper["source"] as? String == "folder")
        #expect(shaper["imports"] as? [String] == ["tagging"] && shaper["cases"] as? [String] == ["sample"])
        let libraries = try #require(catalog["libraries"] as? [[String: Any]])
        let tagging = try #require(libraries.first { $0["name"] as? String == "tagging" })
        #expect(tagging["importedBy"] as? [String] == ["shaper"])

        let detail = try await studio.object("/studio/api/transformations/shaper")
        #expect((detail["code"] as? String)?.contains("transformEvent") == true)
        let versions = try #require(detail["versions"] as? [[String: Any]])
        #expect(versions.contains { $0["live"] as? Bool == true && ($0["id"] as? String)?.hasPrefix("sv") == true })
        #expect(detail["credentials"] as? [[String: String]] == [["name": "apiKey", "case": "sample"]])
        let library = try await studio.object("/studio/api/libraries/tagging?language=javascript")
        #expect((library["code"] as? String)?.contains("tagged") == true && library["importedBy"] as? [String] == ["shaper"])
        #expect(try await studio.get("/studio/api/transformations/nope").status == 404)
        #expect(try await studio.get("/studio/api/libraries/nope").status == 404)

        // No answer carries a credential's value.
        for path in ["/studio/api/catalog", "/studio/api/transformations/shaper", "/studio/api/session"] {
            #expect(!(try await studio.get(path)).body.contains(Self.secret), "\(path)")
        }
    }

    @Test func runsTheEditorsCodeOnCasesAndPastedEventsWithOutcomesLocationsAndDiffs() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // Worker processes: the service's own sandbox.
        let studio = try Studio(arguments: ["studio", folder])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let code = try #require(try await studio.object("/studio/api/transformations/shaper")["code"] as? String)

        // The cases, as saved: passed, each event's outcome, the credential used but never shown.
        let passed = try await studio.run(["name": "shaper", "language": "javascript", "code": code, "cases": ["sample"]], token: token)
        #expect(passed.status == 200, "\(passed.text)")
        #expect(!passed.text.contains(Self.secret))
        let run = try #require((passed.object["runs"] as? [[String: Any]])?.first)
        #expect(run["status"] as? String == "passed", "\(run)")
        let events = try #require(run["events"] as? [[String: Any]])
        #expect(events.map { $0["outcome"] as? String } == ["output", "split", "dropped"])
        #expect(events[1]["count"] as? Int == 2)
        #expect(events[0]["logs"] as? [String] == ["kept m-1 with key set"])
        #expect(events.allSatisfy { ($0["milliseconds"] as? Double).map { $0 >= 0 } ?? false })
        // Each call's own time, measured in the worker process and sent with its reply.
        #expect(events.allSatisfy { $0["timing"] as? String == "engine" }, "\(events.map { $0["timing"] ?? "none" })")

        // An edit that changes an output: failed, with the harness's differences by path.
        let edited = code.replacingOccurrences(of: "part: 2", with: "part: 3")
        let failed = try await studio.run(["name": "shaper", "language": "javascript", "code": edited], token: token)
        let failedRun = try #require((failed.object["runs"] as? [[String: Any]])?.first)
        #expect(failedRun["status"] as? String == "failed")
        let differences = try #require(failedRun["differences"] as? [[String: Any]])
        #expect(differences.count == 1)
        #expect(differences.first?["path"] as? String == "$[3].output.part")
        #expect(differences.first?["expected"] as? Int == 2 && differences.first?["actual"] as? Int == 3)
        #expect((differences.first?["event"] as? [String: Any])?["messageId"] as? String == "m-2")

        // A syntax error: the compile error at its line.
        let broken = code.replacingOccurrences(of: "if (event.event === \"drop\") return null;", with: "if (event.event === \"drop\") return null;;)")
        let compile = try await studio.run(["name": "shaper", "language": "javascript", "code": broken, "cases": ["sample"]], token: token)
        let problem = try #require(compile.object["compile"] as? [String: Any], "\(compile.text)")
        #expect(problem["line"] as? Int == 4, "\(problem)")

        // Pasted NDJSON: split, drop, and a runtime error located in the user's file.
        let pasted = try await studio.run(["name": "shaper", "language": "javascript", "code": code, "events": """
        {"type":"track","event":"split","messageId":"p-1"}
        {"type":"track","event":"drop","messageId":"p-2"}
        {"type":"track","event":"throw","messageId":"p-3"}
        not json
        """], token: token)
        let pastedEvents = try #require((pasted.object["runs"] as? [[String: Any]])?.first?["events"] as? [[String: Any]], "\(pasted.text)")
        #expect(pastedEvents.map { $0["outcome"] as? String } == ["split", "dropped", "error", "error"])
        let thrown = try #require(pastedEvents[2]["error"] as? [String: Any])
        #expect(thrown["kind"] as? String == "exception" && thrown["line"] as? Int == 6, "\(thrown)")
        #expect((pastedEvents[3]["error"] as? [String: Any])?["kind"] as? String == "invalid_input")

        // Python: a syntax error and a traceback, each at its line.
        let pythonBroken = try await studio.run(["language": "python", "code": "def transformEvent(event, metadata):\n    x = (\n    return 1\n",
                                                 "events": "[{}]"], token: token)
        #expect((pythonBroken.object["compile"] as? [String: Any])?["line"] as? Int == 2, "\(pythonBroken.text)")
        let pythonThrows = try await studio.run(["language": "python", "code": "def transformEvent(event, metadata):\n    x = 1\n    return 1 / 0\n",
                                                 "events": "[{}]"], token: token)
        let pythonError = (pythonThrows.object["runs"] as? [[String: Any]])?.first?["events"] as? [[String: Any]]
        #expect((pythonError?.first?["error"] as? [String: Any])?["line"] as? Int == 3, "\(pythonThrows.text)")

        // A memory bomb: memory_limit, a limit hit, under the lowered limit asked for.
        let bomb = "export function transformEvent(event) {\n  const keep = [];\n  while (true) keep.push(new Array(100000).fill(keep.length));\n}\n"
        let bombed = try await studio.run(["language": "javascript", "code": bomb, "events": #"[{"type":"track"}]"#,
                                           "limits": ["memoryMegabytes": 32, "timeMilliseconds": 3000]], token: token)
        let bombEvent = try #require((bombed.object["runs"] as? [[String: Any]])?.first?["events"] as? [[String: Any]], "\(bombed.text)").first
        #expect((bombEvent?["error"] as? [String: Any])?["kind"] as? String == "memory_limit", "\(bombed.text)")
        #expect(bombEvent?["limitHit"] as? String == "memory_limit")

        // Limits past the service's maxima, and malformed requests, are refused with the reason.
        let above = try await studio.run(["language": "javascript", "code": code, "events": "[{}]", "limits": ["timeMilliseconds": 999_999]], token: token)
        #expect(above.status == 400 && (above.object["error"] as? String)?.contains("maximum") == true)
        #expect(try await studio.run(["language": "javascript", "events": "[{}]"], token: token).status == 400)
        #expect(try await studio.run(["language": "cobol", "code": "x", "events": "[{}]"], token: token).status == 400)
        #expect(try await studio.run(["name": "nope", "language": "javascript", "code": code], token: token).status == 404)
        #expect(try await studio.run(["name": "shaper", "language": "javascript", "code": code, "cases": ["nope"]], token: token).status == 404)
    }

    @Test func publishesVersionsThroughTheNativeAPIRollsBackAndAcceptsSavedCodeAsExpected() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A developer's Studio (CI unset even on the CI machine): accept records expectations.
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"], environment: ["CI": ""])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let one = "export function transformEvent(event) { return event; }\n"
        let two = "export function transformEvent(event) { return { ...event, two: true }; }\n"

        // A new API transformation on first publish, then a new version; both listed, the last live.
        let first = try await studio.post("/studio/api/publish", ["name": "scratch", "language": "javascript", "code": one], token: token)
        #expect(first.status == 201, "\(first.text)")
        let v1 = try #require(first.object["liveVersion"] as? String)
        let second = try await studio.post("/studio/api/publish", ["name": "scratch", "code": two], token: token)
        #expect(second.status == 201, "\(second.text)")
        let v2 = try #require(second.object["version"] as? String)
        #expect(v1 != v2)
        var detail = try await studio.object("/studio/api/transformations/scratch")
        #expect(detail["source"] as? String == "api" && detail["liveVersion"] as? String == v2 && detail["code"] as? String == two)
        #expect((detail["versions"] as? [[String: Any]])?.compactMap { $0["id"] as? String }.sorted() == [v1, v2].sorted())
        let catalog = try await studio.object("/studio/api/catalog")
        #expect((catalog["transformations"] as? [[String: Any]])?.contains { $0["name"] as? String == "scratch" && $0["source"] as? String == "api" } == true)

        // Roll back: the first version is live again, and /v1 says so too.
        let back = try await studio.post("/studio/api/rollback", ["name": "scratch", "version": v1], token: token)
        #expect(back.status == 200, "\(back.text)")
        detail = try await studio.object("/studio/api/transformations/scratch")
        #expect(detail["liveVersion"] as? String == v1 && detail["code"] as? String == one)
        #expect(try await studio.post("/studio/api/rollback", ["name": "scratch", "version": "sv000000000000000000000000"], token: token).status == 404)

        // Code that does not compile is not published; a folder transformation changes in its folder.
        #expect(try await studio.post("/studio/api/publish", ["name": "scratch", "code": "export function ("], token: token).status == 400)
        let folderPublish = try await studio.post("/studio/api/publish", ["name": "shaper", "language": "javascript", "code": one], token: token)
        #expect(folderPublish.status == 409 && (folderPublish.object["error"] as? String)?.contains("folder") == true, "\(folderPublish.text)")
        #expect(try await studio.request("POST", "/studio/api/publish", body: #"{"name":"x","code":"y"}"#, headers: [:]).status == 403)

        // Accept as expected: the saved code's results become expected.ndjson, and the case passes.
        let expected = folder + "/transformations/shaper/tests/sample/expected.ndjson"
        try Data("{\"dropped\":true,\"metadata\":{}}\n".utf8).write(to: URL(fileURLWithPath: expected))
        let code = try #require(try await studio.object("/studio/api/transformations/shaper")["code"] as? String)
        let failing = try await studio.run(["name": "shaper", "language": "javascript", "code": code], token: token)
        #expect((failing.object["runs"] as? [[String: Any]])?.first?["status"] as? String == "failed")
        let accepted = try await studio.post("/studio/api/accept", ["name": "shaper", "language": "javascript", "code": code, "cases": ["sample"]], token: token)
        #expect(accepted.status == 200 && accepted.object["lines"] as? Int == 5, "\(accepted.text)")
        #expect(try String(contentsOfFile: expected, encoding: .utf8).contains(#""part":2"#))
        let passing = try await studio.run(["name": "shaper", "language": "javascript", "code": code], token: token)
        #expect((passing.object["runs"] as? [[String: Any]])?.first?["status"] as? String == "passed")
        // Unsaved code, an API transformation, or two cases: refused, nothing written.
        let unsaved = try await studio.post("/studio/api/accept", ["name": "shaper", "language": "javascript", "code": code + "\n", "cases": ["sample"]], token: token)
        #expect(unsaved.status == 409 && (unsaved.object["error"] as? String)?.contains("save it in the folder") == true)
        #expect(try await studio.post("/studio/api/accept", ["name": "scratch", "language": "javascript", "code": one, "cases": ["sample"]], token: token).status == 409)
        #expect(try await studio.post("/studio/api/accept", ["name": "shaper", "language": "javascript", "code": code], token: token).status == 400)
    }

    @Test func acceptAsExpectedIsOffInCI() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"], environment: ["CI": "true"])
        let session = try await studio.object("/studio/api/session")
        #expect(session["ci"] as? Bool == true)
        let token = try #require(session["token"] as? String)
        let code = try #require(try await studio.object("/studio/api/transformations/shaper")["code"] as? String)
        let before = try String(contentsOfFile: folder + "/transformations/shaper/tests/sample/expected.ndjson", encoding: .utf8)
        let refused = try await studio.post("/studio/api/accept", ["name": "shaper", "language": "javascript", "code": code, "cases": ["sample"]], token: token)
        #expect(refused.status == 409 && (refused.object["error"] as? String)?.contains("CI") == true)
        #expect(try String(contentsOfFile: folder + "/transformations/shaper/tests/sample/expected.ndjson", encoding: .utf8) == before)
    }

    @Test func stateChangingRoutesRefuseOtherOriginsAndMissingTokens() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let studio = try Studio(arguments: ["studio", folder, "--isolation", "in-process"])
        let token = try #require(try await studio.object("/studio/api/session")["token"] as? String)
        let body = #"{"language":"javascript","code":"export function transformEvent(e) { return e; }","events":"[{}]"}"#
        let origin = "http://127.0.0.1:\(studio.port)"
        let refusals: [[String: String]] = [
            [:],
            // A wrong token (its first digit changed: "0" + the rest is the token itself one time in 16).
            ["X-Sluice-Studio-Token": (token.hasPrefix("0") ? "1" : "0") + token.dropFirst()],
            ["X-Sluice-Studio-Token": token, "Origin": "http://evil.example"],
            ["X-Sluice-Studio-Token": token, "Origin": "null"],
            ["X-Sluice-Studio-Token": token, "Origin": origin, "Sec-Fetch-Site": "cross-site"],
            ["X-Sluice-Studio-Token": token, "Sec-Fetch-Site": "same-site"],
        ]
        for headers in refusals {
            let answer = try await studio.request("POST", "/studio/api/run", body: body, headers: headers.merging(["Content-Type": "application/json"]) { $1 })
            #expect(answer.status == 403, "\(headers): \(answer.body)")
            #expect(answer.headers.value(forHTTPHeaderField: "Content-Security-Policy") != nil)
        }
        let allowed = try await studio.request("POST", "/studio/api/run", body: body, headers: [
            "Content-Type": "application/json", "X-Sluice-Studio-Token": token, "Origin": origin, "Sec-Fetch-Site": "same-origin",
        ])
        #expect(allowed.status == 200, "\(allowed.body)")
        // A client that is not a browser (no Origin, no Sec-Fetch-Site) needs the token alone.
        let scripted = try await studio.request("POST", "/studio/api/run", body: body, headers: ["X-Sluice-Studio-Token": token])
        #expect(scripted.status == 200)
    }

    @Test func serveTurnsStudioOnByDefaultOnlyOnLoopback() async throws {
        let folder = try Self.project()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func serve(_ host: String, _ extra: [String], _ environment: [String: String] = [:]) throws -> Studio {
            try Studio(arguments: ["serve", "--host", host, "--port", "0", "--isolation", "in-process", "--transformations", folder + "/transformations",
                                   "--libraries", folder + "/libraries", "--store", folder + "/.store/registry.sqlite"] + extra,
                       environment: environment, expectURL: false)
        }
        // Loopback: on by default; off with --no-studio or SLUICE_STUDIO=0.
        #expect(try await serve("127.0.0.1", []).get("/").status == 200)
        #expect(try await serve("127.0.0.1", ["--no-studio"]).get("/studio/api/session").status == 404)
        #expect(try await serve("127.0.0.1", [], ["SLUICE_STUDIO": "0"]).get("/").status == 404)
        // Every address: off by default; on with --studio or SLUICE_STUDIO=1 (then only with the guard).
        #expect(try await serve("0.0.0.0", []).get("/").status == 404)
        #expect(try await serve("0.0.0.0", []).get("/studio/api/session").status == 404)
        #expect(try await serve("0.0.0.0", ["--studio"]).get("/").status == 200)
        #expect(try await serve("0.0.0.0", [], ["SLUICE_STUDIO": "1"]).get("/studio/api/catalog").status == 200)
        // The flag wins over the environment.
        #expect(try await serve("127.0.0.1", ["--studio"], ["SLUICE_STUDIO": "0"]).get("/").status == 200)
        let wrong = try sluice(["serve", "--port", "0", "--transformations", folder + "/transformations"], environment: ["SLUICE_STUDIO": "maybe"])
        #expect(wrong.status != 0 && wrong.stderr.contains("SLUICE_STUDIO must be 1 or 0"))
    }

    @Test func studioWantsAnExistingFolder() throws {
        let result = try sluice(["studio", "/nonexistent/sluice-project"])
        #expect(result.status != 0 && result.stderr.contains("no such folder"))
    }
}
