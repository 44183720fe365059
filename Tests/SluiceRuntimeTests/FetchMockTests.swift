import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

@Suite struct FetchMocks {
    static let mocks = #"{"https://api.test/ok": {"status": 200, "headers": {"x": "1"}, "body": {"v": 1}}, "https://api.test/bad": {"status": 500, "body": "no"}}"#

    func run(_ code: String, language: Language, mocks: String?) throws -> BatchResult {
        let name = "t.\(language.fileExtension)"
        let compiled = try sharedRuntime.compile(TransformationSource(name: "t", language: language, fileName: name, code: code))
        return sharedRuntime.run(compiled, batch: Batch(items: items(["{}"]), fetchMocks: mocks), limits: .defaults)
    }

    @Test func javascriptFetchAndFetchV2() throws {
        let code = """
        export async function transformEvent(e) {
          const ok = await fetch("https://api.test/ok");
          const bad = await fetch("https://api.test/bad");
          const v2 = await fetchV2("https://api.test/ok");
          let rejected = false;
          try { await fetchV2("https://api.test/missing"); } catch (error) { rejected = error.message; }
          return { ok, bad, v2, rejected };
        }
        """
        let result = try run(code, language: .javascript, mocks: Self.mocks)
        #expect(result.results.map { render($0) } == [
            #"0 output {"ok":{"v":1},"bad":"ERROR","v2":{"url":"https://api.test/ok","status":200,"headers":{"x":"1"},"body":{"v":1}},"rejected":"fetchV2: no mock for GET https://api.test/missing"}"#,
        ])
        #expect(result.unmockedRequests == ["GET https://api.test/missing"])
    }

    @Test func pythonFetchAndFetchV2() throws {
        let code = """
        def transformEvent(event, metadata):
            ok = fetch("https://api.test/ok")
            bad = fetch("https://api.test/bad")
            v2 = fetchV2("https://api.test/ok")
            try:
                fetchV2("https://api.test/missing")
                rejected = False
            except ConnectionError as error:
                rejected = str(error)
            return {"ok": ok, "bad": bad, "v2": v2, "rejected": rejected}
        """
        let result = try run(code, language: .python, mocks: Self.mocks)
        #expect(result.results.map { render($0) } == [
            #"0 output {"ok":{"v":1},"bad":"ERROR","v2":{"url":"https://api.test/ok","status":200,"headers":{"x":"1"},"body":{"v":1}},"rejected":"fetchV2: no mock for GET https://api.test/missing"}"#,
        ])
        #expect(result.unmockedRequests == ["GET https://api.test/missing"])
    }

    @Test func withoutMocksOrANetworkFetchSaysItIsUnavailable() throws {
        let javascript = """
            export async function transformEvent(e) {
              let error; try { await fetchV2("https://api.test/ok"); } catch (x) { error = x.message; }
              return { fetched: await fetch("https://api.test/ok"), error };
            }
            """
        let python = "def transformEvent(e, m):\n    try:\n        fetchV2('https://api.test/ok')\n        error = None\n    except ConnectionError as x:\n        error = str(x)\n    return {'fetched': fetch('https://api.test/ok'), 'error': error}\n"
        for (code, language) in [(javascript, Language.javascript), (python, .python)] {
            let rendered = try run(code, language: language, mocks: nil).results.map { render($0) }
            let message = JSONString.encode(FetchFailure.unavailableOffline.userMessage)
            #expect(rendered == [#"0 output {"fetched":"ERROR","error":"# + message + "}"], "\(language)")
            #expect(message.contains("--fetch-mocks") && message.contains("--allow-net"))
        }
    }
}
