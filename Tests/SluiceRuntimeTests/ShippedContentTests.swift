import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTestSupport
import Testing

/// The repository's own `libraries/` and `transformations/`, loaded as the CLI loads them.
enum Repository {
    static let root = PackageRoot.path
    static let runtime = Runtime(libraries: LibraryDirectory(root: root + "/libraries", languages: Engines.languages))
}

@Suite struct ShippedContent {
    @Test func hashingMatchesKnownSHA256Vectors() throws {
        let code = """
        import { sha256Hex } from "hashing";
        export function transformEvent(e) { return { hex: sha256Hex(e.text) }; }
        """
        // Digests from Python's hashlib.
        let vectors: [(String, String)] = [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            (String(repeating: "a", count: 1000), "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"),
            ("héllo 🎉", "292f34c3956e72a9b8b795ed2e9e626f9bd8cbb50c104f82c8f5da276147de60"),
            ("The quick brown fox jumps over the lazy dog", "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"),
        ]
        let inputs = vectors.map { "{\"text\":\(JSONString.encode($0.0))}" }
        #expect(try lines(code, inputs, runtime: Repository.runtime)
            == vectors.enumerated().map { "\($0.offset) output {\"hex\":\"\($0.element.1)\"}" })
    }

    @Test func thePythonTwinAgreesWithTheJavaScriptOne() throws {
        func run(_ folder: String) throws -> (results: [String], logs: [String]) {
            let definition = try TransformationLoader.load(path: Repository.root + "/transformations/" + folder)
            let compiled = try Repository.runtime.compile(definition.source)
            let reader = try InputReader(path: Repository.root + "/transformations/\(folder)/tests/sample/input.ndjson")
            var items: [JSONText] = []
            while let record = try reader.next() {
                if case .item(let item) = record { items.append(item.json) }
            }
            let result = Repository.runtime.run(compiled, batch: Batch(items: items), limits: definition.limits.applied(to: .defaults))
            return (result.results.map { render($0) }, result.logs.map(\.text))
        }
        let javascript = try run("mask-pii"), python = try run("mask-pii-py")
        #expect(javascript.results == python.results)
        #expect(javascript.logs == python.logs)
        #expect(python.results.count == 4)
    }

    @Test func hashingLibrariesAgreeAcrossLanguages() throws {
        let inputs = ["{\"t\":\"\"}", "{\"t\":\"héllo 🎉 user_0001234\"}", "{\"t\":\"abc\"}"]
        let javascript = try lines("import { sha256Hex, fnv1aHex } from \"hashing\";\nexport function transformEvent(e) { return {s: sha256Hex(e.t), f: fnv1aHex(e.t)}; }",
                                   inputs, runtime: Repository.runtime)
        let python = try pythonLines("from hashing import sha256_hex, fnv1a_hex\n\ndef transformEvent(e, m):\n    return {\"s\": sha256_hex(e[\"t\"]), \"f\": fnv1a_hex(e[\"t\"])}\n",
                                     inputs, runtime: Repository.runtime)
        #expect(javascript == python)
        #expect(javascript.count == 3)
    }

    @Test func maskPIIOnItsSample() throws {
        let definition = try TransformationLoader.load(path: Repository.root + "/transformations/mask-pii")
        #expect(definition.source.name == "mask-pii")
        #expect(definition.limits == LimitsOverride(timeMilliseconds: 1000, memoryMegabytes: 64))
        let compiled = try Repository.runtime.compile(definition.source)
        let reader = try InputReader(path: Repository.root + "/transformations/mask-pii/tests/sample/input.ndjson")
        var items: [JSONText] = []
        while let record = try reader.next() {
            if case .item(let item) = record { items.append(item.json) }
        }
        let result = Repository.runtime.run(compiled, batch: Batch(items: items), limits: definition.limits.applied(to: .defaults))
        #expect(result.results.map { render($0) } == [
            #"0 output {"type":"identify","messageId":"m-1","userId":"u-1","traits":{"plan":"pro","emailSha256":"b5fc85e55755f9e0d030a10ab4429b6b2944855f9a0d60077fe832becbc41d72"},"context":{"ip":"203.0.113.7","maskedBy":"mask-pii"}}"#,
            "1 dropped",
            #"2 output {"type":"track","messageId":"m-3","event":"Order Completed","properties":{"total":42.5},"context":{"traits":{"emailSha256":"5ff860bf1190596c7188ab851db691f0f3169c453936e9e1eba2f9a47f7a0018"},"maskedBy":"mask-pii"}}"#,
            #"3 output {"type":"page","messageId":"m-4","name":"Pricing","context":{"maskedBy":"mask-pii"}}"#,
        ])
    }
}
