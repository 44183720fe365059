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

    @Test func structuralErrorsNameTheByte() {
        #expect(throws: RawJSONError(offset: 8, reason: "the JSON array is not closed with ]")) { try split(#"[{"a":1}"#, chunk: 3) }
        #expect(throws: RawJSONError(offset: 9, reason: "expected , or ] after an element")) { try split(#"[{"a":1} {"b":2}]"#, chunk: 3) }
        #expect(throws: RawJSONError(offset: 1, reason: "expected an element before ,")) { try split("[,1]", chunk: 3) }
        #expect(throws: RawJSONError(offset: 4, reason: "unexpected text after the JSON array")) { try split("[1] x", chunk: 3) }
        var small = ItemSplitter(maximumItemBytes: 4)
        #expect(throws: RawJSONError.self) { try small.feed(Array("{\"abc\":1}\n".utf8)) }
    }
}
