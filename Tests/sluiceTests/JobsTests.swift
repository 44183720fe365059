import Foundation
import Testing

/// `--jobs N`: batches run on several engines at once, and what comes out is the same bytes, in
/// the same order, as with one.
@Suite struct Jobs {
    /// Outputs, drops, splits, throws and logs: every kind of result line.
    static let perEvent = """
    export function transformEvent(event, metadata) {
      const n = event.n;
      if (n % 7 === 0) log("seven", n);
      if (n % 11 === 0) return null;
      if (n % 13 === 0) throw new Error("thirteen " + n);
      if (n % 5 === 0) return [{ ...event, part: 1 }, { ...event, part: 2 }];
      return { ...event, doubled: n * 2, source: metadata(event).sourceId ?? null };
    }
    """

    /// Randomness and a clock, which `record` and `replay` fix per batch.
    static let seeded = perEvent.replacingOccurrences(of: "doubled: n * 2,", with: "doubled: n * 2, random: Math.random(), now: Date.now(),")

    /// A batch's shape shows in each output (its size and first event), so any change of batch
    /// boundaries changes the bytes.
    static let perBatch = """
    export function transformBatch(events) {
      log("batch of", events.length);
      return events.filter((event) => event.n % 3 !== 0).map((event) => ({ ...event, batch: events.length, first: events[0].n }));
    }
    """

    /// 10,000 input lines: events (some in envelopes), with a malformed line every 97th and a
    /// non-object every 101st.
    static let events: String = {
        var lines: [String] = []
        lines.reserveCapacity(10_000)
        for n in 1...10_000 {
            if n % 97 == 0 {
                lines.append("{not json \(n)")
            } else if n % 101 == 0 {
                lines.append("[\(n)]")
            } else if n % 4 == 0 {
                lines.append(#"{"message":{"messageId":"m\#(n)","n":\#(n)},"metadata":{"sourceId":"s\#(n % 9)"}}"#)
            } else {
                lines.append(#"{"messageId":"m\#(n)","n":\#(n),"text":"é \#(n)"}"#)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }()

    /// stdout, the exit status and the summary line without its time.
    struct Run: Equatable {
        var status: Int32
        var stdout: String
        var summary: String
    }

    static func run(_ transformation: URL, input: URL, jobs: Int, isolation: String, extra: [String] = []) throws -> Run {
        let result = try sluice(["run", transformation.path, "--input", input.path, "--logs", "--batch-size", "50",
                                 "--jobs", "\(jobs)", "--isolation", isolation] + extra)
        var summary = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        if let time = summary.range(of: " in ", options: .backwards) { summary = String(summary[..<time.lowerBound]) }
        return Run(status: result.status, stdout: result.stdout, summary: summary)
    }

    @Test(arguments: ["processes", "in-process"])
    func runGivesTheSameBytesWithOneTwoAndThreeJobs(isolation: String) throws {
        let root = try folder(["each.js": Self.perEvent, "batch.js": Self.perBatch, "in.ndjson": Self.events])
        defer { try? FileManager.default.removeItem(at: root) }
        let input = root.appendingPathComponent("in.ndjson")
        for file in ["each.js", "batch.js"] {
            let transformation = root.appendingPathComponent(file)
            let single = try Self.run(transformation, input: input, jobs: 1, isolation: isolation)
            #expect(single.status == 0)
            #expect(single.summary.hasPrefix("sluice run: 10000 events"), "\(single.summary)")
            // Every kind of line is there, so the comparison covers them all.
            for marker in [#"{"output":"#, #"{"log":"#, #""kind":"invalid_input""#] {
                #expect(single.stdout.contains(marker), "\(file) has no \(marker)")
            }
            if file == "each.js" {
                #expect(single.stdout.contains(#"{"dropped":true"#))
                #expect(single.stdout.contains(#""kind":"exception""#))
                #expect(single.stdout.contains(#""part":2"#))
            }
            for jobs in [2, 3] {
                let parallel = try Self.run(transformation, input: input, jobs: jobs, isolation: isolation)
                #expect(parallel.status == single.status, "\(file) --jobs \(jobs)")
                #expect(parallel.summary == single.summary, "\(file) --jobs \(jobs)")
                #expect(parallel.stdout == single.stdout, "\(file) --jobs \(jobs): output differs from --jobs 1")
            }
        }
    }

    @Test func recordAndReplayGiveTheSameResultsWithAnyNumberOfJobs() throws {
        let root = try folder(["t.js": Self.seeded, "in.ndjson": Self.events])
        defer { try? FileManager.default.removeItem(at: root) }
        var recordings: [String] = []
        for jobs in [1, 3] {
            let output = root.appendingPathComponent("rec\(jobs)")
            let recorded = try sluice(["record", root.appendingPathComponent("in.ndjson").path, "--transformation",
                                       root.appendingPathComponent("t.js").path, "--output", output.path, "--jobs", "\(jobs)"])
            #expect(recorded.status == 0, "\(recorded.stderr)")
            recordings.append(try String(contentsOf: output.appendingPathComponent("t-0001.ndjson"), encoding: .utf8))
        }
        // Malformed lines are items too (they fail as invalid_input), so every line is recorded.
        #expect(recordings[0].split(separator: "\n").count == 10_000)
        #expect(recordings[0].contains(#""random":0."#))
        #expect(recordings[0] == recordings[1], "record --jobs 3 differs from --jobs 1")
        // Replaying with several jobs finds nothing changed: seeded randomness restarts per batch.
        let replayed = try sluice(["replay", root.appendingPathComponent("rec1/t-0001.ndjson").path, "--transformation",
                                   root.appendingPathComponent("t.js").path, "--jobs", "2", "--json"])
        #expect(replayed.status == 0, "\(replayed.stdout.prefix(2000))")
        let report = try JSONSerialization.jsonObject(with: Data(replayed.stdout.utf8)) as? [String: Any]
        #expect(report?["unchanged"] as? Int == 10000, "\(replayed.stdout.prefix(500))")
    }

    @Test func jobsBelowOneAreBadArguments() throws {
        let result = try sluice(["run", "x.js", "--jobs", "0"], stdin: "")
        #expect(result.status == 64)
        #expect(result.stderr.contains("--jobs must be at least 1"))
    }
}
