import ArgumentParser
import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceTesting

struct RecordCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "record",
        abstract: "Run events through a transformation and record inputs with their results, for sluice replay.",
        discussion: """
        Writes NDJSON files <output>/<name>-0001.ndjson, … ({"input": …, "results": […]} per event), starting a new file at --max-file-mb. Credential values in envelopes are always removed; --redact PATH (e.g. $.message.context.traits.email, * and [*] allowed) replaces more. With --redact, every event's recorded input is run too (what replay will run): when a redacted value feeds an event's output, a warning names the events (input line, messageId) and the result paths, since those events would replay as changed even with unchanged code.
        """
    )

    @Argument(help: "Input files (NDJSON or JSON array), or - for standard input.")
    var inputs: [String] = ["-"]

    @Option(name: .long, help: "The transformation (file or folder) that produces the results.")
    var transformation: String

    @Option(name: .long, help: "Folder for the recording files.")
    var output: String

    @Option(name: .long, help: "Library folder (default: the nearest libraries/ above the transformation).")
    var libraries: String?

    @Option(name: .long, help: "Fraction of events to record, chosen by a hash of each event (0…1).")
    var sample: Double = 1

    @Option(name: .long, parsing: .singleValue, help: "A path to redact in every input (repeatable).")
    var redact: [String] = []

    @Option(name: .customLong("max-file-mb"), help: "Start a new file past this size.")
    var maxFileMegabytes: Int = 64

    @OptionGroup var isolation: IsolationOptions

    func validate() throws {
        if !(0...1).contains(sample) { throw ValidationError("--sample must be between 0 and 1") }
        if maxFileMegabytes < 1 { throw ValidationError("--max-file-mb must be at least 1") }
    }

    func run() throws {
        setenv("TZ", "UTC", 1)
        let loaded = try LoadedTransformation(path: transformation, libraries: libraries)
        let handle = try isolation.makeExecutor(for: [loaded.program])
        defer { handle.shutdown() }
        try loaded.check(on: handle.executor)
        // Open every input first: a missing file creates no recording.
        let readers = try inputs.map { input -> InputReader in
            do { return try InputReader(path: input) } catch { throw CLIError("cannot read input: \(error)") }
        }
        let stale = ((try? FileManager.default.contentsOfDirectory(atPath: output)) ?? [])
            .filter { $0.hasPrefix(loaded.definition.source.name + "-") && $0.hasSuffix(".ndjson") }
        if !stale.isEmpty {
            throw CLIError("\(output) already holds a recording of \(loaded.definition.source.name) (\(stale.sorted().first!), …): remove it or choose another --output")
        }
        var options = RecordingWriter.Options(directory: output, name: loaded.definition.source.name)
        options.sampleRate = sample
        options.redact = redact
        options.maximumFileBytes = maxFileMegabytes << 20
        let writer = try RecordingWriter(options: options)
        let recording = options
        let limits = loaded.limits
        var malformed = 0
        var outcomes = OutcomeTally()
        // With --redact, each batch's recorded inputs run too: what replay will see (RedactionCheck).
        var redactionCheck = redact.isEmpty ? nil : RedactionCheck(paths: redact)
        typealias Read = (items: [JSONText], lines: [Int], file: String, malformed: Int)
        // Batches of 200 per input file, run --jobs at a time and recorded in input order.
        var remainingReaders = Array(zip(inputs, readers))[...]
        try OrderedPipeline<Read, (real: BatchResult, recorded: BatchResult?)>(workers: handle.jobs).run(
            produce: {
                while let next = remainingReaders.first {
                    let (name, reader) = next
                    let records = try reader.next(upTo: 200)
                    if records.isEmpty {
                        remainingReaders.removeFirst()
                        continue
                    }
                    var read: Read = ([], [], name, 0)
                    for record in records {
                        if case .item(let item) = record {
                            read.items.append(item.json)
                            read.lines.append(item.line)
                        }
                    }
                    read.malformed = records.count - read.items.count
                    return read
                }
                return nil
            },
            work: { batch in
                // Recorded with the clocks and seeds replay uses, so an unchanged transformation replays unchanged.
                guard !batch.items.isEmpty else { return (BatchResult(results: [], logs: []), nil) }
                let real = handle.executor.results(loaded.program, batch: Batch(items: batch.items, determinism: .testDefaults), limits: limits)
                guard !recording.redact.isEmpty else { return (real, nil) }
                let recordedInputs = batch.items.map { (try? RecordingWriter.recordedInput($0, options: recording)) ?? $0 }
                return (real, handle.executor.results(loaded.program, batch: Batch(items: recordedInputs, determinism: .testDefaults), limits: limits))
            },
            consume: { batch, results in
                malformed += batch.malformed
                let items = batch.items
                if items.isEmpty { return }
                outcomes.add(results.real, events: items.count)
                let grouped = Self.group(results.real, count: items.count)
                let fromRecorded = results.recorded.map { Self.group($0, count: items.count) }
                for (index, item) in items.enumerated() {
                    try writer.append(input: item, results: grouped[index])
                    if let fromRecorded {
                        let recorded = try grouped[index].map { try RecordingWriter.recordedResult($0, options: recording) }
                        let event = EventReference(line: batch.lines[index], messageId: EventReference.messageId(ofInput: item),
                                                   file: batch.file == "-" ? nil : batch.file)
                        redactionCheck?.add(recorded: recorded, fromRecordedInput: fromRecorded[index], event: event)
                    }
                }
            })
        try writer.close()
        var summary = "sluice record: \(outcomes.summary); \(writer.written) recorded in \(Wording.counted(writer.files.count, "file")): \(writer.files.joined(separator: ", "))"
        if malformed > 0 { summary += "; \(Wording.counted(malformed, "input item")) too large or not an item: not recorded" }
        FileHandle.standardError.write(Data((summary + "\n").utf8))
        if let warning = redactionCheck?.warning { FileHandle.standardError.write(Data("sluice record: \(warning)\n".utf8)) }
    }

    /// A batch's results by input (results that belong to no input go with the last).
    static func group(_ result: BatchResult, count: Int) -> [[EventResult]] {
        var grouped = [[EventResult]](repeating: [], count: count)
        for eventResult in result.results { grouped[min(eventResult.inputIndex ?? count - 1, count - 1)].append(eventResult) }
        return grouped
    }
}
