import Foundation
import SluiceCore
import Testing
@testable import SluiceRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The pull entry point (`InputReader`, the CLI's run, replay, record and test) and the push entry
/// point (`ItemSplitter`, the `/v1` streaming run) are one state machine: for the same bytes they
/// give the same items and the same malformed records, wherever the chunks are cut.
@Suite struct SplitterEntryPointTests {
    /// NDJSON with CRLF, blank lines, an indented item, an item over the cap and invalid JSON.
    static let ndjson = Array("{\"a\":1}\r\n\n  {\"b\":\"x,]\"}\n{\"big\":\"0123456789abcdefgh\"}\nnot json\n{\"c\":3}".utf8)
    /// An array with a string full of structure, an empty slot, an item over the cap, an unbalanced
    /// `}`, a missing comma and text after the array.
    static let array = Array("\u{FEFF}[1, {\"x\":\"a,]}\\\"\"},,\n \"0123456789abcdefghij\" , {\"y\":2}}, 3 4,\n{}] x".utf8)
    static let cap = 16

    /// Every record, pulled from an in-memory reader.
    func pulled(_ bytes: [UInt8]) throws -> [InputRecord] {
        let reader = InputReader(bytes: bytes, maximumItemBytes: Self.cap)
        var records: [InputRecord] = []
        while let record = try reader.next() { records.append(record) }
        return records
    }

    /// Every record, pushed in the chunks that `cuts` (ascending offsets) make.
    func pushed(_ bytes: [UInt8], cuts: [Int]) -> [InputRecord] {
        var splitter = ItemSplitter(maximumItemBytes: Self.cap)
        var records: [InputRecord] = []
        var start = 0
        for cut in cuts + [bytes.count] {
            records += splitter.split(bytes[start ..< cut])
            start = cut
        }
        return records + splitter.end()
    }

    @Test func theMixedInputsGiveTheExpectedRecords() throws {
        #expect(try pulled(Self.ndjson) == [
            .item(InputItem(json: Array(#"{"a":1}"#.utf8), line: 1)),
            .item(InputItem(json: Array(#"  {"b":"x,]"}"#.utf8), line: 3)),
            .malformed(line: 4, message: "line 4: item is larger than the 16-byte item cap"),
            .item(InputItem(json: Array("not json".utf8), line: 5)),
            .item(InputItem(json: Array(#"{"c":3}"#.utf8), line: 6)),
        ])
        #expect(try pulled(Self.array) == [
            .item(InputItem(json: Array("1".utf8), line: 1)),
            .item(InputItem(json: Array(#"{"x":"a,]}\""}"#.utf8), line: 1)),
            .malformed(line: 1, message: "line 1: empty array element"),
            .malformed(line: 2, message: "line 2: item is larger than the 16-byte item cap"),
            .malformed(line: 2, message: "line 2: unbalanced '}' in array element"),
            .item(InputItem(json: Array("3 4".utf8), line: 2)),
            .item(InputItem(json: Array("{}".utf8), line: 3)),
            .malformed(line: 3, message: "line 3: unexpected data after the end of the JSON array"),
        ])
    }

    @Test(arguments: [SplitterEntryPointTests.ndjson, SplitterEntryPointTests.array])
    func pushingWithACutAtEveryOffsetGivesWhatTheReaderGives(bytes: [UInt8]) throws {
        let expected = try pulled(bytes)
        for cut in 0 ... bytes.count {
            #expect(pushed(bytes, cuts: [cut]) == expected, "cut at byte \(cut)")
        }
        for size in 1 ... 9 {
            #expect(pushed(bytes, cuts: Array(stride(from: size, to: bytes.count, by: size))) == expected,
                    "chunks of \(size)")
        }
    }

    @Test(arguments: [SplitterEntryPointTests.ndjson, SplitterEntryPointTests.array])
    func readingWithEveryBufferSizeGivesWhatPushingGives(bytes: [UInt8]) throws {
        let expected = pushed(bytes, cuts: [])
        let path = NSTemporaryDirectory() + "splitter-\(UUID().uuidString).json"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        defer { unlink(path) }
        for bufferSize in 1 ... bytes.count {
            let descriptor = open(path, O_RDONLY)
            defer { close(descriptor) }
            let reader = InputReader(fileDescriptor: descriptor, maximumItemBytes: Self.cap, bufferSize: bufferSize)
            var records: [InputRecord] = []
            while true {
                let batch = try reader.next(upTo: 2)
                if batch.isEmpty { break }
                records += batch
            }
            #expect(records == expected, "buffer of \(bufferSize)")
        }
    }

    /// Through the items-only `feed`/`finish` the /v1 run uses today: the items before the first
    /// malformed record, then that record's message as the error, wherever the chunks are cut.
    @Test(arguments: [SplitterEntryPointTests.ndjson, SplitterEntryPointTests.array])
    func feedingGivesTheItemsBeforeTheFirstMalformedRecordThenItsMessage(bytes: [UInt8]) throws {
        let records = try pulled(bytes)
        let firstMalformed = try #require(records.firstIndex { if case .malformed = $0 { true } else { false } })
        let itemsBefore = records[..<firstMalformed].map { record -> JSONText in
            guard case .item(let item) = record else { return [] }
            return item.json
        }
        guard case .malformed(_, let message) = records[firstMalformed] else { return }
        for cut in 0 ... bytes.count {
            var splitter = ItemSplitter(maximumItemBytes: Self.cap)
            var items: [JSONText] = []
            var thrown: RawJSONError?
            do {
                items += try splitter.feed(bytes[..<cut])
                items += try splitter.feed(bytes[cut...])
                items += try splitter.finish()
            } catch {
                thrown = error
            }
            #expect(items == itemsBefore, "cut at byte \(cut)")
            #expect(thrown?.reason == message, "cut at byte \(cut)")
        }
    }
}
