import SluiceCore
import SluiceRuntime
import SluiceTestSupport
import Testing

@Suite struct Determinism_ {
    func run(_ code: String, language: Language, determinism: Determinism?) throws -> [String] {
        let name = "transform.\(language.fileExtension)"
        let compiled = try sharedRuntime.compile(TransformationSource(name: "d", language: language, fileName: name, code: code))
        return sharedRuntime.run(compiled, batch: Batch(items: items(["{}", "{}"]), determinism: determinism), limits: .defaults)
            .results.map { render($0) }
    }

    @Test func javascriptClocksAndRandomAreFixedPerBatch() throws {
        let code = "export function transformEvent(e) { return { now: Date.now(), iso: new Date().toISOString(), explicit: new Date(5).getTime(), r: Math.random() < 1, same: Math.random() }; }"
        let first = try run(code, language: .javascript, determinism: .testDefaults)
        #expect(first == (try run(code, language: .javascript, determinism: .testDefaults)))
        #expect(first[0].contains(#""now":1767225600000,"iso":"2026-01-01T00:00:00.000Z","explicit":5,"r":true"#))
        #expect(first[0] != first[1])  // the sequence goes on within a batch
        let other = try run(code, language: .javascript, determinism: Determinism(now: 0, seed: 2))
        #expect(other[0].contains(#""now":0,"#))
        #expect(other != first)
        // Without determinism the real clock is back.
        let live = try run(code, language: .javascript, determinism: nil)
        #expect(!live[0].contains("1767225600000"))
    }

    @Test func pythonClocksRandomAndUUIDAreFixedPerBatch() throws {
        let code = """
        import random
        import time
        import uuid
        from datetime import datetime

        def transformEvent(event, metadata):
            return {"now": time.time(), "dt": datetime.now().isoformat(), "r": random.randint(1, 10**9), "u": str(uuid.uuid4()),
                    "year": time.strftime("%Y"), "ctime": time.ctime()}
        """
        let first = try run(code, language: .python, determinism: .testDefaults)
        #expect(first == (try run(code, language: .python, determinism: .testDefaults)))
        #expect(first[0].contains(#""now":1767225600.0,"dt":"2026-01-01T00:00:00""#))
        #expect(first[0].contains(#""year":"2026","ctime":"Thu Jan  1 00:00:00 2026""#))
        #expect(first[0] != first[1])
        let live = try run(code, language: .python, determinism: nil)
        #expect(!live[0].contains("1767225600.0"))
    }
}
