import Testing

/// The engine cases of Tests/Cases (contract, limits, restrictions, fidelity), each run in-process
/// through the real engines and compared with its `expected.ndjson`.
@Suite struct EngineCases {
    @Test(arguments: EngineCase.all)
    func matchesItsExpectation(_ engineCase: EngineCase) {
        let mismatches = engineCase.mismatches()
        #expect(mismatches.isEmpty, "\(engineCase.testDescription) — Tests/Cases/\(engineCase.id):\n  \(mismatches.joined(separator: "\n  "))")
    }

    /// A known-broken case fails; when one starts to pass, this fails so it leaves `fixme/`.
    @Test(arguments: EngineCase.fixme)
    func fixmeCasesStillFail(_ engineCase: EngineCase) {
        withKnownIssue("Tests/Cases/\(engineCase.id) is known to be broken; when it passes, move it out of fixme/") {
            let mismatches = engineCase.mismatches()
            #expect(mismatches.isEmpty, "\(engineCase.testDescription):\n  \(mismatches.joined(separator: "\n  "))")
        }
    }

    @Test func casesWereFound() {
        #expect(EngineCase.all.count > 100, "Tests/Cases at \(EngineCase.root)")
        #expect(Set(EngineCase.all.map { $0.id.split(separator: "/")[0] }) == ["contract", "fidelity", "limits", "restrictions"])
    }

    @Test func theAsyncVariantAwaitsFirstInTheEntryPoint() {
        #expect(EngineCase.madeAsync("export function transformEvent(event, metadata) { return event; }")
            == "export async function transformEvent(event, metadata) { await null; return event; }")
        #expect(EngineCase.madeAsync("const x = {};\nexport function transformBatch(events) {\n  return events;\n}")
            == "const x = {};\nexport async function transformBatch(events) { await null;\n  return events;\n}")
        #expect(EngineCase.madeAsync("function transformEvent(e) { return e; }") == nil)
    }
}
