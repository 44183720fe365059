import Foundation
import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

private let envelopes = [
    #"{"message":{"messageId":"a","n":1},"metadata":{"messageId":"a","destinationId":"d","sourceId":"s"}}"#,
    #"{"message":{"messageId":"b","n":2},"metadata":{"messageId":"b","destinationId":"d","sourceId":"s"}}"#,
]

/// Results carry the metadata the host read from each input, whatever user code did to the object
/// `metadata(event)` returned.
@Suite struct HostMetadata {
    @Test(arguments: [Language.javascript, .python])
    func changingTheObjectMetadataReturnsDoesNotChangeAResultsMetadata(_ language: Language) throws {
        let code = language == .javascript
            ? "export function transformEvent(e, metadata) { const m = metadata(e); m.messageId = 'forged'; m.destinationId = 'elsewhere'; return e; }"
            : "def transformEvent(e, metadata):\n    m = metadata(e)\n    m['messageId'] = 'forged'\n    m['destinationId'] = 'elsewhere'\n    return e\n"
        let result = try runTransformation(code, envelopes, language: language)
        #expect(result.results.map { String(decoding: $0.metadata, as: UTF8.self) } == [
            #"{"messageId":"a","destinationId":"d","sourceId":"s"}"#, #"{"messageId":"b","destinationId":"d","sourceId":"s"}"#,
        ])
    }

    @Test(arguments: [Language.javascript, .python])
    func anInputTheEngineCannotReadKeepsItsMetadata(_ language: Language) throws {
        let code = language == .javascript ? "export function transformEvent(e) { return e; }" : "def transformEvent(e, m):\n    return e\n"
        // The envelope is valid JSON but its message is not an object the engine accepts as an event.
        let result = try runTransformation(code, [#"{"message":{"n":1},"metadata":{"messageId":"m1"}}"#, "{not json"], language: language)
        #expect(result.results.map { String(decoding: $0.metadata, as: UTF8.self) } == [#"{"messageId":"m1"}"#, "{}"])
    }
}

/// A batch with a progress handler hands its finished results over while it runs; together with the
/// final result they are every result exactly once, in input order.
@Suite struct Progress {
    private final class Collected: @unchecked Sendable {
        let lock = NSLock()
        var chunks: [BatchResult] = []
        func add(_ chunk: BatchResult) { lock.withLock { chunks.append(chunk) } }
    }

    @Test(arguments: [Language.javascript, .python])
    func aSlowBatchReportsProgressAndEveryResultComesOnce(_ language: Language) throws {
        let code = language == .javascript
            ? "export function transformEvent(e) { const end = Date.now() + 3; while (Date.now() < end) {} log('seen ' + e.n); return e.n % 3 === 0 ? null : e; }"
            : "import time\ndef transformEvent(e, m):\n    end = time.monotonic() + 0.003\n    while time.monotonic() < end:\n        pass\n    log('seen ' + str(e['n']))\n    return None if e['n'] % 3 == 0 else e\n"
        let inputs = (0..<40).map { #"{"n":\#($0),"messageId":"m\#($0)"}"# }
        let runtime = Runtime(libraries: NoLibraries())
        let compiled = try runtime.compile(TransformationSource(name: "slow", language: language, fileName: "slow.\(language.fileExtension)", code: code))
        let collected = Collected()
        var batch = Batch(items: items(inputs))
        batch.progress = { collected.add($0) }
        batch.progressInterval = 10_000_000
        let final = runtime.run(compiled, batch: batch, limits: .defaults)
        let chunks = collected.lock.withLock { collected.chunks }
        #expect(chunks.count >= 2, "40 calls of 3 ms with a 10 ms interval report progress several times")
        let all = chunks.flatMap(\.results) + final.results
        #expect(all.map(\.inputIndex) == (0..<40).map { $0 })
        #expect(all.map(\.outcome.name) == (0..<40).map { $0 % 3 == 0 ? "dropped" : "output" })
        #expect(all.map { String(decoding: $0.metadata, as: UTF8.self) } == (0..<40).map { #"{"messageId":"m\#($0)"}"# })
        #expect((chunks.flatMap(\.logs) + final.logs).map(\.text) == (0..<40).map { "seen \($0)" })
    }

    @Test(arguments: [Language.javascript, .python])
    func aFastBatchReportsNoProgress(_ language: Language) throws {
        let code = language == .javascript ? "export function transformEvent(e) { return e; }" : "def transformEvent(e, m):\n    return e\n"
        let runtime = Runtime(libraries: NoLibraries())
        let compiled = try runtime.compile(TransformationSource(name: "fast", language: language, fileName: "fast.\(language.fileExtension)", code: code))
        let collected = Collected()
        var batch = Batch(items: items((0..<50).map { #"{"n":\#($0)}"# }))
        batch.progress = { collected.add($0) }
        batch.progressInterval = 5_000_000_000
        let final = runtime.run(compiled, batch: batch, limits: .defaults)
        #expect(collected.chunks.isEmpty)
        #expect(final.results.count == 50)
    }
}
