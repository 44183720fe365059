import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceServer
import Testing

/// CONTRACT.md §2.2, one test per rule, with the exact JSON.
@Suite struct ToolingTests {
    static let libraries = InMemoryLibraries([
        LibrarySource(importName: "tagger", language: .javascript, fileName: "tagger.js", code: "export function tag(e) { e.tagged = true; return e; }"),
    ])
    let tooling = ToolingHandler(executor: InProcessExecutor(), libraries: ToolingTests.libraries,
                                 limits: Limits(timeMilliseconds: 500, memoryMegabytes: 128))

    func text(_ response: WireResponse) -> String { String(decoding: response.body, as: UTF8.self) }

    @Test func transformationTestReturnsOutputsErrorsAndLogsAndSkipsDrops() {
        let body = #"""
        {"events": [{"message": {"n": 1}, "metadata": {"messageId": "a"}}, {"message": {"drop": true}}, {"message": {"fail": true}}],
         "trRevCode": {"code": "import { tag } from \"tagger\";\nexport function transformEvent(e, m) { log('saw', e.n ?? '-'); if (e.drop) return; if (e.fail) throw new Error('bad event'); return tag(e); }",
                       "codeVersion": "1", "language": "javascript", "name": "t"},
         "libraryVersionIDs": []}
        """#
        let response = tooling.testTransformation(body: Array(body.utf8))
        #expect(response.status == 200)
        #expect(text(response) == #"{"transformedEvents":[{"n":1,"tagged":true},{"error":"Error: bad event\n    at transformEvent (transform.js:2:111)"}],"logs":["Log: saw 1","Log: saw -","Log: saw -"]}"#)
    }

    @Test func transformationTestRunsPythonAndPythonfaas() {
        for language in ["python", "pythonfaas"] {
            let body = #"{"events":[{"message":{"n":1}}],"trRevCode":{"code":"def transformEvent(event, metadata):\n    event['py'] = True\n    return event\n","language":"\#(language)"}}"#
            let response = tooling.testTransformation(body: Array(body.utf8))
            #expect(response.status == 200)
            #expect(text(response) == #"{"transformedEvents":[{"n":1,"py":true}],"logs":[]}"#)
        }
    }

    @Test func transformationTestRefusesMissingCodeMissingEventsAndCodeThatDoesNotCompile() {
        #expect(text(tooling.testTransformation(body: Array(#"{"events":[{"message":{}}],"trRevCode":{"language":"javascript"}}"#.utf8)))
            == #"{"error":"Invalid request. Missing code"}"#)
        #expect(text(tooling.testTransformation(body: Array(#"{"events":[],"trRevCode":{"code":"x"}}"#.utf8)))
            == #"{"error":"Invalid request. Missing events"}"#)
        let broken = tooling.testTransformation(body: Array(#"{"events":[{"message":{}}],"trRevCode":{"code":"export function transformEvent(e) { return e; "}}"#.utf8))
        #expect(broken.status == 400)
        #expect(text(broken).hasPrefix(#"{"error":"SyntaxError: "#))
        let invalid = tooling.testTransformation(body: Array(#"{"events": [}"#.utf8))
        #expect(invalid.status == 400 && text(invalid) == #"{"error":"invalid JSON at byte 12: expected a value"}"#)
    }

    @Test func aLimitHitIsThatEventsError() {
        let body = #"{"events":[{"message":{"loop":true}},{"message":{"n":2}}],"trRevCode":{"code":"export function transformEvent(e) { while (e.loop) {} return e; }"}}"#
        let response = tooling.testTransformation(body: Array(body.utf8))
        #expect(text(response) == #"{"transformedEvents":[{"error":"time limit of 500 ms exceeded"},{"n":2}],"logs":[]}"#)
    }

    @Test func libraryTestPassesCodeThatCompilesAndRuns() {
        let response = tooling.testLibrary(body: Array(#"{"code":"export function f() { return 1; }","language":"javascript"}"#.utf8))
        #expect(response.status == 200 && text(response) == "true")
        let python = tooling.testLibrary(body: Array(#"{"code":"def f():\n    return 1\n","language":"python"}"#.utf8))
        #expect(python.status == 200)
    }

    @Test func libraryTestRefusesSyntaxErrorsTopLevelThrowsAndMissingCode() {
        let syntax = tooling.testLibrary(body: Array(#"{"code":"export function f( {","language":"javascript"}"#.utf8))
        #expect(syntax.status == 400 && text(syntax).contains("SyntaxError"))
        let throwing = tooling.testLibrary(body: Array(#"{"code":"throw new Error('at load');\nexport const x = 1;","language":"javascript"}"#.utf8))
        #expect(throwing.status == 400 && text(throwing).contains("at load"))
        let python = tooling.testLibrary(body: Array(#"{"code":"def f(:\n","language":"python"}"#.utf8))
        #expect(python.status == 400 && text(python).contains("SyntaxError"))
        #expect(text(tooling.testLibrary(body: Array(#"{"language":"javascript"}"#.utf8))) == #"{"error":"Invalid request. Missing code"}"#)
    }

    @Test func extractLibsListsImportedNamesPerModule() {
        let body = #"{"code":"import sha, { sha256, md5 as d } from \"hashing\";\nimport * as u from 'urlTools';\nexport function transformEvent(e) { return e; }","language":"javascript"}"#
        #expect(text(ToolingHandler.extractLibraries(body: Array(body.utf8), languages: Engines.languages)) == #"{"hashing":["sha","sha256","md5"],"urlTools":[]}"#)
        let python = #"{"code":"from hashing import sha256\nimport json\n","language":"pythonfaas"}"#
        #expect(text(ToolingHandler.extractLibraries(body: Array(python.utf8), languages: Engines.languages)) == #"{"hashing":[],"json":[]}"#)
        #expect(ToolingHandler.extractLibraries(body: Array(#"{"code":"x","language":"ruby"}"#.utf8), languages: Engines.languages).status == 400)
    }
}
