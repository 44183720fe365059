import Foundation
import SluiceCore
import SluiceRuntime
@testable import SluiceTesting
import Testing
import SluiceTestSupport

func temporaryFolder() -> String {
    let path = TemporaryFolder.path("sluice-replay")
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

func compile(_ code: String, runtime: Runtime) throws -> any CompiledTransformation {
    try runtime.compile(TransformationSource(name: "t", language: .javascript, fileName: "t.js", code: code))
}

/// Records `inputs` through `code`; returns the recording files.
func record(_ inputs: [String], code: String, options: (inout RecordingWriter.Options) -> Void = { _ in }) throws -> [String] {
    let runtime = Runtime(libraries: NoLibraries())
    let transformation = try compile(code, runtime: runtime)
    var settings = RecordingWriter.Options(directory: temporaryFolder(), name: "t")
    options(&settings)
    let writer = try RecordingWriter(options: settings)
    let items = inputs.map { Array($0.utf8) }
    let result = runtime.run(transformation, batch: Batch(items: items), limits: .defaults)
    for (index, item) in items.enumerated() {
        try writer.append(input: item, results: result.results.filter { $0.inputIndex == index })
    }
    try writer.close()
    return writer.files
}

@Suite struct RecordingTests {
    @Test func linesCarryTheInputFirstAndTheResultLines() throws {
        let files = try record([#"{"message":{"messageId":"a","v":1},"metadata":{"m":1}}"#, #"{"drop":true}"#],
                               code: "export function transformEvent(e) { return e.drop ? null : e; }")
        let text = try String(contentsOfFile: files[0], encoding: .utf8)
        #expect(text == """
        {"input":{"message":{"messageId":"a","v":1},"metadata":{"m":1}},"results":[{"output":{"messageId":"a","v":1},"metadata":{"m":1}}]}
        {"input":{"drop":true},"results":[{"dropped":true,"metadata":{}}]}

        """)
    }

    @Test func errorResultsCarryTheirKind() throws {
        let files = try record([#"{"v":1}"#], code: "export function transformEvent(e) { throw new TypeError('bad'); }")
        let text = try String(contentsOfFile: files[0], encoding: .utf8)
        #expect(text.hasPrefix(#"{"input":{"v":1},"results":[{"error":"TypeError: bad"#))
        #expect(text.hasSuffix(#"","kind":"exception","metadata":{}}]}"# + "\n"))
    }

    @Test func credentialsAreAlwaysRedactedAndPathsOnRequest() throws {
        let input = #"{"message":{"email":"x@y.z","ok":1},"credentials":[{"id":"1","key":"apiKey","value":"s3cret"}]}"#
        let files = try record([input], code: "export function transformEvent(e) { return e; }") {
            $0.redact = ["$.message.email"]
        }
        let text = try String(contentsOfFile: files[0], encoding: .utf8)
        #expect(!text.contains("s3cret"))
        #expect(!text.contains("x@y.z"))
        #expect(text.contains(#""value":"[redacted]""#))
        #expect(text.contains(#""email":"[redacted]""#))
    }

    @Test func filesRotateBySizeAndSamplingIsByHash() throws {
        let inputs = (0..<40).map { #"{"n":\#($0),"pad":"\#(String(repeating: "x", count: 100))"}"# }
        let rotated = try record(inputs, code: "export function transformEvent(e) { return e; }") { $0.maximumFileBytes = 1000 }
        #expect(rotated.count > 3)
        #expect(rotated.first?.hasSuffix("t-0001.ndjson") == true)
        let lines = try rotated.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined().split(separator: "\n")
        #expect(lines.count == 40)
        let sampled = try record(inputs, code: "export function transformEvent(e) { return e; }") { $0.sampleRate = 0.5 }
        let sampledLines = try sampled.map { try String(contentsOfFile: $0, encoding: .utf8) }.joined().split(separator: "\n")
        #expect(sampledLines.count > 5 && sampledLines.count < 35)
        #expect(RecordingWriter.sampled(Array(inputs[0].utf8), rate: 0.5) == RecordingWriter.sampled(Array(inputs[0].utf8), rate: 0.5))
    }
}

@Suite struct ReplayerTests {
    static let inputs = [#"{"messageId":"a","v":1}"#, #"{"messageId":"b","v":2}"#, #"{"messageId":"c","v":3}"#]

    func replay(recordedWith: String, candidate: String, against: String? = nil, ignore: [String] = []) throws -> ReplaySummary {
        let files = try record(Self.inputs, code: recordedWith)
        let runtime = Runtime(libraries: NoLibraries())
        var options = Replayer.Options()
        options.ignore = ignore
        let baseline = try against.map { (runtime, try compile($0, runtime: runtime), Limits.defaults) }
        return try Replayer(runtime: runtime, candidate: try compile(candidate, runtime: runtime), against: baseline, options: options)
            .replay(files: files)
    }

    @Test func theSameTransformationChangesNothing() throws {
        let code = "export function transformEvent(e) { e.w = e.v * 2; return e; }"
        let summary = try replay(recordedWith: code, candidate: code)
        #expect(summary.events == 3 && summary.unchanged == 3 && !summary.differs)
    }

    @Test func everyKindOfChangeIsCounted() throws {
        let recorded = "export function transformEvent(e) { if (e.v === 3) throw new Error('old'); return e; }"
        let candidate = "export function transformEvent(e) { if (e.v === 1) return null; if (e.v === 2) throw new Error('new'); return {...e, fixed: true}; }"
        let summary = try replay(recordedWith: recorded, candidate: candidate)
        #expect(summary.newlyDropped == 1 && summary.newlyFailing == 1 && summary.newlyPassing == 1 && summary.unchanged == 0)
        #expect(summary.differs)
        #expect(summary.examples.map(\.kind) == ["newly dropped", "newly failing", "newly passing"])
        #expect(summary.examples.first?.location.hasSuffix(":1") == true)
    }

    @Test func theCandidatesOutcomesAreTallied() throws {
        let code = "export function transformEvent(e) { if (e.v === 3) throw new Error('no'); return e.v === 2 ? null : e; }"
        let summary = try replay(recordedWith: code, candidate: code)
        #expect(summary.unchanged == 3)
        #expect(summary.outcomes.summary == "3 events → 1 output, 1 dropped, 1 failed (1 exception)")
    }

    @Test func aRecordingWithoutKindsReplaysUnchangedButAnotherKindDiffers() throws {
        let code = "export function transformEvent(e) { if (e.v === 3) throw new Error('no'); return e; }"
        let files = try record(Self.inputs, code: code)
        let text = try String(contentsOfFile: files[0], encoding: .utf8)
        #expect(text.contains(#""kind":"exception""#))
        try text.replacingOccurrences(of: #","kind":"exception""#, with: "").write(toFile: files[0], atomically: true, encoding: .utf8)
        let runtime = Runtime(libraries: NoLibraries())
        let unchanged = try Replayer(runtime: runtime, candidate: try compile(code, runtime: runtime), options: Replayer.Options())
            .replay(files: files)
        #expect(unchanged.unchanged == 3 && !unchanged.differs)
        try text.replacingOccurrences(of: #""kind":"exception""#, with: #""kind":"time_limit""#)
            .write(toFile: files[0], atomically: true, encoding: .utf8)
        let otherKind = try Replayer(runtime: runtime, candidate: try compile(code, runtime: runtime), options: Replayer.Options())
            .replay(files: files)
        #expect(otherKind.changed == 1 && otherKind.paths == ["$[*].kind": 1])
    }

    @Test func changedPathsAreCountedAndIgnorable() throws {
        let recorded = "export function transformEvent(e) { return e; }"
        let candidate = "export function transformEvent(e) { e.v += 1; e.extra = true; return e; }"
        let summary = try replay(recordedWith: recorded, candidate: candidate)
        #expect(summary.changed == 3)
        #expect(summary.paths == ["$[*].output.v": 3, "$[*].output.extra": 3])
        let ignored = try replay(recordedWith: recorded, candidate: candidate, ignore: ["$[*].output.v", "$[*].output.extra"])
        #expect(!ignored.differs && ignored.unchanged == 3)
    }

    @Test func againstAnotherVersionSideBySide() throws {
        let old = "export function transformEvent(e) { return e; }"
        let new = "export function transformEvent(e) { return e.v === 2 ? null : e; }"
        let summary = try replay(recordedWith: old, candidate: new, against: old)
        #expect(summary.newlyDropped == 1 && summary.unchanged == 2)
    }

    @Test func recordingLinesAreSlicedWithoutParsing() {
        let line = Array(#"{"input":{"a":"x,]}\"y"},"results":[{"output":{"b":[1,2]},"metadata":{}},{"dropped":true,"metadata":{}}]}"#.utf8)
        let parts = RecordingLine.split(line)
        #expect(parts.map { String(decoding: $0.input, as: UTF8.self) } == #"{"a":"x,]}\"y"}"#)
        #expect(parts?.results.map { String(decoding: $0, as: UTF8.self) } == [#"{"output":{"b":[1,2]},"metadata":{}}"#, #"{"dropped":true,"metadata":{}}"#])
        // Another key order goes through the slow path.
        let reordered = RecordingLine.split(Array(#"{"results":[],"input":{"a":1}}"#.utf8))
        #expect(reordered.map { String(decoding: $0.input, as: UTF8.self) } == #"{"a":1}"#)
        #expect(RecordingLine.split(Array("not json".utf8)) == nil)
    }

    @Test func pathsAreGeneralised() {
        #expect(ReplaySummary.generalise(#"$[3].output.products[12].price"#) == "$[*].output.products[*].price")
        #expect(ReplaySummary.generalise(#"$[0]["odd key"]"#) == #"$[*]["odd key"]"#)
    }
}
