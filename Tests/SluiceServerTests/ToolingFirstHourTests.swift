import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceServer
import SluiceTestSupport
import Testing

/// The test routes as a newcomer meets them: Python's print() in the logs, imports of missing
/// libraries and names as compile errors that say where they looked, credentials with their JSON
/// types.
@Suite struct ToolingFirstHourTests {
    static let root: String = {
        (try? TemporaryFolder.create([
            "libraries/hashing.py": "def sha256_hex(text):\n    return text\n",
            "libraries/tagger.js": "export function tag(e) { e.tagged = true; return e; }\n",
        ])) ?? "/nonexistent"
    }()
    let tooling = ToolingHandler(executor: InProcessExecutor(),
                                 libraries: LibraryDirectory(root: ToolingFirstHourTests.root + "/libraries", languages: Engines.languages))

    func text(_ response: WireResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    func testBody(_ code: String, language: String, events: String = #"[{"message":{"messageId":"m1"}}]"#) -> [UInt8] {
        Array(#"{"events":\#(events),"trRevCode":{"code":\#(JSONString.encode(code)),"codeVersion":"1","language":"\#(language)"}}"#.utf8)
    }

    @Test func pythonPrintAppearsInTheLogs() {
        let code = "def transformEvent(event, metadata):\n    print('printed', event['messageId'])\n    log('logged')\n    return event\n"
        let response = tooling.testTransformation(body: testBody(code, language: "python"))
        #expect(response.status == 200)
        #expect(text(response) == #"{"transformedEvents":[{"messageId":"m1"}],"logs":["Log: printed m1","Log: logged"]}"#)
    }

    @Test func aMissingNameImportedFromAPythonLibraryIsACompileError() {
        let code = "from hashing import sha256\n\ndef transformEvent(event, metadata):\n    return event\n"
        let response = tooling.testTransformation(body: testBody(code, language: "python"))
        #expect(response.status == 400)
        #expect(text(response) == #"{"error":"ImportError: cannot import name 'sha256' from 'hashing' (transform.py, line 1: hashing.py defines no 'sha256'; did you mean 'sha256_hex'?)"}"#)
    }

    @Test func aMissingLibraryNamesTheFolderSearchedInBothLanguages() {
        let folder = URL(fileURLWithPath: Self.root + "/libraries").standardizedFileURL.path
        let python = tooling.testTransformation(body: testBody("import hashnig\n\ndef transformEvent(event, metadata):\n    return event\n", language: "python"))
        #expect(python.status == 400)
        #expect(text(python) == #"{"error":"ModuleNotFoundError: No module named 'hashnig' (imported by transform.py; libraries searched: \#(folder))"}"#)
        let javascript = tooling.testTransformation(body: testBody("import { tag } from \"tagger2\";\nexport function transformEvent(e) { return tag(e); }", language: "javascript"))
        #expect(javascript.status == 400)
        #expect(text(javascript) == #"{"error":"import from tagger2 failed. Module not found. (imported by transform.js; libraries searched: \#(folder))"}"#)
    }

    @Test func testRunCredentialsKeepTheirJSONTypes() {
        let code = "export function transformEvent(e) { return { retries: getCredential('retries'), on: getCredential('on'), key: getCredential('key'), nested: getCredential('nested') }; }"
        let body = #"{"input":[{"message":{"n":1},"metadata":{"messageId":"m"}}],"codeRevision":{"code":\#(JSONString.encode(code)),"language":"javascript"},"dependencies":{"credentials":[{"key":"retries","value":3},{"key":"on","value":true},{"key":"key","value":"k-1"},{"key":"nested","value":{"a":[1]}}]}}"#
        let response = tooling.testRun(body: Array(body.utf8))
        #expect(response.status == 200)
        #expect(text(response) == #"{"transformedEvents":[{"transformedEvent":{"retries":3,"on":true,"key":"k-1","nested":{"a":[1]}},"metadata":{"messageId":"m"}}],"logs":[]}"#)
    }
}
