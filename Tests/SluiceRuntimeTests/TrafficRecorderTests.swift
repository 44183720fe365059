import Foundation
import SluiceCore
@testable import SluiceRuntime
import Testing
import SluiceTestSupport

@Suite struct TrafficRecorderTests {
    func folder() -> String {
        TemporaryFolder.path("sluice-recorder")
    }

    @Test func workersRecordingAtOnceLoseNoLineAndMixNoVersions() throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let recorder = try TrafficRecorder(options: .init(directory: directory))
        let threads = 4, batches = 50, perBatch = 20
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            for batch in 0..<batches {
                let inputs = (0..<perBatch).map { Array(#"{"message":{"t":\#(thread),"b":\#(batch),"i":\#($0)},"metadata":{}}"#.utf8) }
                let results = inputs.indices.map { EventResult(inputIndex: $0, outcome: .output(Array(#"{"ok":\#($0)}"#.utf8)), metadata: Array("{}".utf8)) }
                recorder.record(versionID: "v\(thread % 2)", inputs: inputs, results: results)
            }
        }
        recorder.close()
        #expect(recorder.errors.isEmpty)
        for version in ["v0", "v1"] {
            let text = try String(contentsOfFile: directory + "/\(version)-0001.ndjson", encoding: .utf8)
            let lines = text.split(separator: "\n")
            #expect(lines.count == threads / 2 * batches * perBatch)
            for line in lines {
                let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
                let thread = try #require((object["input"] as? [String: Any])?["message"] as? [String: Any])["t"] as? Int
                #expect(thread.map { "v\($0 % 2)" } == version)
            }
        }
        // Closed: later calls are ignored, not written to closed files.
        recorder.record(versionID: "v0", inputs: [Array("{}".utf8)], results: [])
        #expect(!FileManager.default.fileExists(atPath: directory + "/v0-0002.ndjson"))
    }

    @Test func sampleRateKeepsAboutThatShareAndTheSameEventsEachTime() throws {
        let directory = folder()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        var options = TrafficRecorder.Options(directory: directory)
        options.sampleRate = 0.25
        let recorder = try TrafficRecorder(options: options)
        let inputs = (0..<4000).map { Array(#"{"message":{"n":\#($0)},"metadata":{}}"#.utf8) }
        recorder.record(versionID: "v", inputs: inputs, results: [])
        recorder.record(versionID: "v", inputs: inputs, results: [])
        recorder.close()
        let lines = try String(contentsOfFile: directory + "/v-0001.ndjson", encoding: .utf8).split(separator: "\n")
        #expect(lines.count % 2 == 0)
        #expect((800...1200).contains(lines.count / 2), "kept \(lines.count / 2) of 4000 at 25%")
        #expect(Array(lines[..<(lines.count / 2)]) == Array(lines[(lines.count / 2)...]))
    }

    @Test func versionIdsFromRequestsBecomeSafeFileNames() {
        #expect(TrafficRecorder.fileName("mask-pii") == "mask-pii")
        #expect(TrafficRecorder.fileName("../../etc/passwd") == "v.._.._etc_passwd")
        #expect(TrafficRecorder.fileName("a b/c") == "a_b_c")
        #expect(TrafficRecorder.fileName("") == "v")
    }
}
