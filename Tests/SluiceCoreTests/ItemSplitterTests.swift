import SluiceCore
import Testing

@Suite struct ItemSplitterTests {
    /// Feeds `text` in chunks of `size` bytes and returns the items as strings.
    func split(_ text: String, chunk size: Int) throws -> [String] {
        var splitter = ItemSplitter()
        let bytes = Array(text.utf8)
        var items: [JSONText] = []
        var start = 0
        while start < bytes.count {
            items += try splitter.feed(bytes[start..<min(start + size, bytes.count)])
            start += size
        }
        items += try splitter.finish()
        return items.map { String(decoding: $0, as: UTF8.self) }
    }

    @Test(arguments: [1, 2, 3, 7, 1000])
    func arrayElementsSurviveEveryChunkBoundary(size: Int) throws {
        let text = #" [ {"a":"x,]}\"y"}, {"b":[1,{"c":2}]} ,"s\\",42 ,null,[]] "#
        #expect(try split(text, chunk: size) == [#"{"a":"x,]}\"y"}"#, #"{"b":[1,{"c":2}]}"#, #""s\\""#, "42", "null", "[]"])
    }

    @Test(arguments: [1, 5, 1000])
    func ndjsonLinesWithBlankLinesCRLFAndNoFinalNewline(size: Int) throws {
        let text = "\u{FEFF}{\"a\":1}\r\n\n  \n{\"b\":\"[\"}\n{\"c\":3}"
        #expect(try split(text, chunk: size) == [#"{"a":1}"#, #"{"b":"["}"#, #"{"c":3}"#])
    }

    @Test func emptyInputsGiveNoItems() throws {
        #expect(try split("", chunk: 4).isEmpty)
        #expect(try split("  \n ", chunk: 4).isEmpty)
        #expect(try split("[ ]", chunk: 1).isEmpty)
    }

    /// Through `feed`/`finish` (items only), a piece that cannot be an item ends the stream: the
    /// items before it come out, then the next call throws it with its line and starting byte.
    @Test func malformedPiecesNameTheirLineAndByte() {
        #expect(throws: RawJSONError(offset: 1, reason: "line 1: unterminated JSON array (missing ']')")) { try split(#"[{"a":1}"#, chunk: 3) }
        #expect(throws: RawJSONError(offset: 0, reason: "line 1: empty array element")) { try split("[,1]", chunk: 3) }
        #expect(throws: RawJSONError(offset: 4, reason: "line 1: unexpected data after the end of the JSON array")) { try split("[1] x", chunk: 3) }
        #expect(throws: RawJSONError(offset: 4, reason: "line 2: unbalanced '}' in array element")) { try split("[1,\n{}}]", chunk: 2) }
        var small = ItemSplitter(maximumItemBytes: 4)
        #expect((try? small.feed(Array("1\n{\"abc\":1}\n2\n".utf8))) == [Array("1".utf8)])
        #expect(throws: RawJSONError(offset: 2, reason: "line 2: item is larger than the 4-byte item cap")) { try small.finish() }
    }

    /// A missing `,` between elements leaves one element that is not valid JSON: the engine reports
    /// it as that event's error, the stream goes on.
    @Test func elementsWithoutACommaAreOneInvalidItem() throws {
        #expect(try split(#"[{"a":1} {"b":2}, 3]"#, chunk: 3) == [#"{"a":1} {"b":2}"#, "3"])
    }

    @Test func recordsCarryLinesAndMalformedPiecesDoNotStopTheStream() {
        var splitter = ItemSplitter(maximumItemBytes: 8)
        var records = splitter.split(Array("[\n 1,\n \"0123456789\",,\n".utf8))
        records += splitter.split(Array(" {\"k\":2} ]".utf8))
        records += splitter.end()
        #expect(records == [
            .item(InputItem(json: Array("1".utf8), line: 2)),
            .malformed(line: 3, message: "line 3: item is larger than the 8-byte item cap"),
            .malformed(line: 3, message: "line 3: empty array element"),
            .item(InputItem(json: Array(#"{"k":2}"#.utf8), line: 4)),
        ])
        #expect(splitter.isFinished)
    }

    @Test func splittingStopsOnceEnoughRecordsArePending() {
        var splitter = ItemSplitter()
        let bytes = Array("1\n2\n3\n".utf8)
        var records: [InputRecord] = []
        let consumed = bytes.withUnsafeBufferPointer { splitter.split($0, into: &records, upTo: 2) }
        #expect(consumed == 4)
        #expect(records.count == 2)
        #expect(splitter.offset == 4)
    }
}
