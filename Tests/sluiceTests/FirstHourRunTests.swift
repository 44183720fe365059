import Foundation
import SluiceTestSupport
import Testing

/// `sluice run` without surprises, on the built binary: Python's print() never breaks the NDJSON
/// output, fetch says how to get an answer (`--fetch-mocks`, `--allow-net`), settings and library
/// errors name what is wrong and where.
@Suite struct FirstHourRunTests {
    func path(_ root: URL, _ name: String) -> String { root.appendingPathComponent(name).path }

    /// Every line of standard output is a JSON object.
    func isNDJSON(_ output: String) -> Bool {
        output.split(separator: "\n").allSatisfy { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] != nil
        }
    }

    @Test(arguments: ["processes", "in-process"])
    func pythonPrintBecomesLogLinesAndTheOutputStaysNDJSON(isolation: String) throws {
        let root = try folder([
            "t.py": """
            print("module loaded")

            def transformEvent(event, metadata):
                print("printing", event["messageId"])
                print("not a json line {")
                return event
            """,
        ])
        let withLogs = try sluice(["run", path(root, "t.py"), "--logs", "--quiet", "--isolation", isolation], stdin: #"{"messageId":"a"}"#)
        #expect(withLogs.status == 0)
        #expect(isNDJSON(withLogs.stdout), "\(withLogs.stdout)")
        #expect(withLogs.lines == [
            #"{"log":"module loaded"}"#,
            #"{"log":"printing a","messageId":"a"}"#,
            #"{"log":"not a json line {","messageId":"a"}"#,
            #"{"output":{"messageId":"a"},"metadata":{"messageId":"a"}}"#,
        ])
        #expect(withLogs.stderr == "")
        let withoutLogs = try sluice(["run", path(root, "t.py"), "--quiet", "--isolation", isolation], stdin: #"{"messageId":"a"}"#)
        #expect(withoutLogs.lines == [#"{"output":{"messageId":"a"},"metadata":{"messageId":"a"}}"#])
        #expect(withoutLogs.stderr == "")
    }

    static let fetchingTransformation = """
    export async function transformEvent(event) {
      let failure = null;
      try { await fetchV2(event.url); } catch (error) { failure = error.message; }
      return { fetched: await fetch(event.url), failure };
    }
    """

    @Test(arguments: ["processes", "in-process"])
    func withoutAnOptionAFetchFailsNamingBothOptions(isolation: String) throws {
        let root = try folder(["t.js": Self.fetchingTransformation])
        let result = try sluice(["run", path(root, "t.js"), "--quiet", "--isolation", isolation], stdin: #"{"url":"https://api.example.com/u/1"}"#)
        #expect(result.status == 0)
        let output = (try JSONSerialization.jsonObject(with: Data(result.lines.first?.utf8 ?? "{}".utf8)) as? [String: Any])?["output"] as? [String: Any]
        #expect(output?["fetched"] as? String == "ERROR")
        let failure = output?["failure"] as? String ?? ""
        #expect(failure.contains("--fetch-mocks FILE") && failure.contains("--allow-net"), "\(failure)")
    }

    /// fetch (v1) gives "ERROR" as rudder-transformer's does; the run says why, naming both options.
    @Test(arguments: ["js", "py"])
    func aFetchThatGivesErrorForWantOfAnOptionIsExplainedOnStandardError(language: String) throws {
        let code = language == "js"
            ? "export async function transformEvent(event) { return { fetched: await fetch(event.url) }; }"
            : "def transformEvent(event, metadata):\n    return {'fetched': fetch(event['url'])}\n"
        let root = try folder(["t.\(language)": code])
        let result = try sluice(["run", path(root, "t.\(language)"), "--quiet"], stdin: #"{"url":"https://api.example.com/u/1"}"#)
        #expect(result.status == 0)
        #expect(result.lines == [#"{"output":{"fetched":"ERROR"},"metadata":{}}"#])
        #expect(result.stderr == "sluice run: fetch is not available in this run, so GET https://api.example.com/u/1 failed (fetch gives \"ERROR\"): give --fetch-mocks FILE (mocked responses) or --allow-net (real requests through the egress guard)\n",
                "\(result.stderr)")
    }

    @Test func fetchMocksAnswerFetchFetchV2AndGeolocationAndAnUnmockedURLIsReported() throws {
        let root = try folder([
            "t.js": """
            export async function transformEvent(event) {
              const v2 = await fetchV2("https://api.example.com/u/1");
              let missing = null;
              try { await fetchV2("https://api.example.com/u/2"); } catch (error) { missing = error.message; }
              return { plan: await fetch("https://api.example.com/u/1"), status: v2.status, city: (await geolocation("1.1.1.1")).city, missing };
            }
            """,
            "mocks.json": #"{"https://api.example.com/u/1": {"status": 200, "body": {"plan": "pro"}}, "/geoip/1.1.1.1": {"body": {"city": "Paris"}}}"#,
        ])
        let result = try sluice(["run", path(root, "t.js"), "--fetch-mocks", path(root, "mocks.json")], stdin: "{}")
        #expect(result.status == 0)
        #expect(result.lines == [#"{"output":{"plan":{"plan":"pro"},"status":200,"city":"Paris","missing":"fetchV2: no mock for GET https://api.example.com/u/2"},"metadata":{}}"#])
        #expect(result.stderr.contains("sluice run: no mock in \(path(root, "mocks.json")) for GET https://api.example.com/u/2 (those fetches failed)"), "\(result.stderr)")
    }

    @Test func aMocksFileIsCheckedLikeACasesFetch() throws {
        let root = try folder([
            "t.js": Self.fetchingTransformation,
            "typo.json": #"{"https://api.example.com/u/1": {"stauts": 200}}"#,
            "broken.json": "{\n  \"https://api.example.com/u/1\": {\"status\": 200,}\n}",
        ])
        let typo = try sluice(["run", path(root, "t.js"), "--fetch-mocks", path(root, "typo.json")], stdin: "{}")
        #expect(typo.status == 1)
        #expect(typo.stderr.contains("\(path(root, "typo.json")):1:34: unknown key \"stauts\" in \"https://api.example.com/u/1\" (did you mean \"status\"?)"), "\(typo.stderr)")
        let broken = try sluice(["run", path(root, "t.js"), "--fetch-mocks", path(root, "broken.json")], stdin: "{}")
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("\(path(root, "broken.json")):2:49: invalid JSON: "), "\(broken.stderr)")
        let both = try sluice(["run", path(root, "t.js"), "--fetch-mocks", path(root, "typo.json"), "--allow-net"], stdin: "{}")
        #expect(both.status == 64)
        #expect(both.stderr.contains("--fetch-mocks and --allow-net exclude each other"))
    }

    @Test(arguments: ["processes", "in-process"])
    func allowNetGoesThroughTheEgressGuardWhichRefusesLoopbackUnlessAllowed(isolation: String) throws {
        let server = LoopbackHTTPServer { request, connection in
            connection.respond("200 OK", ["Content-Type: application/json"], Array(#"{"path":"\#(request.path)"}"#.utf8))
        }
        defer { server.stop() }
        let root = try folder(["t.js": Self.fetchingTransformation])
        let url = "http://127.0.0.1:\(server.port)/lookup"
        let arguments = ["run", path(root, "t.js"), "--allow-net", "--quiet", "--isolation", isolation]

        let refused = try sluice(arguments, stdin: #"{"url":"\#(url)"}"#)
        #expect(refused.status == 0)
        #expect(refused.lines == [#"{"output":{"fetched":"ERROR","failure":"blocked request to non-public address: 127.0.0.1"},"metadata":{}}"#])

        let allowed = try sluice(arguments, stdin: #"{"url":"\#(url)"}"#, environment: ["SLUICE_FETCH_ALLOW": "127.0.0.1/32"])
        #expect(allowed.status == 0)
        #expect(allowed.lines == [#"{"output":{"fetched":{"path":"/lookup"},"failure":null},"metadata":{}}"#])

        let malformed = try sluice(arguments, stdin: "{}", environment: ["SLUICE_FETCH_ALLOW": "localhost"])
        #expect(malformed.status == 1)
        #expect(malformed.stderr.contains("SLUICE_FETCH_ALLOW: localhost is not an address or CIDR range"), "\(malformed.stderr)")
    }

    @Test func credentialsKeepTheirJSONTypesAndAMalformedFileNamesItsLine() throws {
        let root = try folder([
            "t.py": "def transformEvent(event, metadata):\n    return {'n': getCredential('n'), 'kind': type(getCredential('n')).__name__, 'key': getCredential('key')}\n",
            "credentials.json": #"{"n": 3, "key": "k-1"}"#,
            "broken.json": "{\n  \"n\": 3,\n  \"key\" \"k-1\"\n}",
        ])
        let typed = try sluice(["run", path(root, "t.py"), "--quiet", "--credentials", path(root, "credentials.json")], stdin: "{}")
        #expect(typed.lines == [#"{"output":{"n":3,"kind":"int","key":"k-1"},"metadata":{}}"#])
        let broken = try sluice(["run", path(root, "t.py"), "--credentials", path(root, "broken.json")], stdin: "{}")
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("\(path(root, "broken.json")):3:9: invalid JSON: "), "\(broken.stderr)")
    }

    @Test func anUnknownManifestKeyStopsTheRunNamingTheKey() throws {
        let root = try folder([
            "t/transform.js": "export function transformEvent(e) { return e; }",
            "t/transformation.json": #"{"name": "t", "entyr": "transform.js"}"#,
        ])
        let result = try sluice(["run", path(root, "t"), "--quiet"], stdin: "{}")
        #expect(result.status == 1)
        #expect(result.stderr.contains("\(path(root, "t/transformation.json")):1:15: unknown key \"entyr\" (did you mean \"entry\"?)"), "\(result.stderr)")
    }

    @Test func missingLibrariesNameTheFolderSearchedInBothLanguages() throws {
        let root = try folder([
            "project/libraries/hashing.js": "export const sha = (x) => x;",
            "project/libraries/hashing.py": "def sha(x):\n    return x\n",
            "project/t.js": "import { sha } from \"hashign\";\nexport function transformEvent(e) { return e; }",
            "project/t.py": "import hashign\n\ndef transformEvent(event, metadata):\n    return event\n",
        ])
        let libraries = root.appendingPathComponent("project/libraries").standardizedFileURL.path
        let javascript = try sluice(["run", path(root, "project/t.js")], stdin: "{}")
        #expect(javascript.status == 1)
        #expect(javascript.stderr.contains("import from hashign failed. Module not found. (imported by t.js; libraries searched: \(libraries))"), "\(javascript.stderr)")
        let python = try sluice(["run", path(root, "project/t.py")], stdin: "{}")
        #expect(python.status == 1)
        #expect(python.stderr.contains("ModuleNotFoundError: No module named 'hashign' (imported by t.py; libraries searched: \(libraries))"), "\(python.stderr)")
    }

    @Test func aPythonImportOfANameALibraryLacksIsACompileError() throws {
        let root = try folder([
            "libraries/hashing.py": "def sha256_hex(text):\n    return text\n",
            "t.py": "from hashing import sha256\n\ndef transformEvent(event, metadata):\n    return event\n",
        ])
        let result = try sluice(["run", path(root, "t.py")], stdin: "{}")
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr.contains("t.py: ImportError: cannot import name 'sha256' from 'hashing' (t.py, line 1: hashing.py defines no 'sha256'; did you mean 'sha256_hex'?)"), "\(result.stderr)")
    }
}
