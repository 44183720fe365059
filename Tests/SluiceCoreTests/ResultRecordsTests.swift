import SluiceCore
import Testing

@Suite struct ResultRecordsTests {
    private typealias Parsed = ResultRecords.Parsed

    /// Parses `text` as the JavaScript engine hands it over (UTF-16) and as CPython does (UTF-8).
    private func parse(_ text: String, metadata: [String]) -> [Parsed] {
        let metadataTexts = metadata.map { Array($0.utf8) }
        var parsed: [Parsed] = []
        var utf16 = Parsed()
        Array(text.utf16).withUnsafeBufferPointer { units in
            ResultRecords.parse(units, metadata: metadataTexts, into: &utf16) { Array(String(decoding: $0, as: UTF16.self).utf8) }
        }
        parsed.append(utf16)
        var utf8 = Parsed()
        Array(text.utf8).withUnsafeBufferPointer { bytes in
            ResultRecords.parse(bytes, metadata: metadataTexts, into: &utf8) { Array($0) }
        }
        parsed.append(utf8)
        return parsed
    }

    private func describe(_ result: EventResult) -> String {
        let index = result.inputIndex.map(String.init) ?? "none"
        let metadata = String(decoding: result.metadata, as: UTF8.self)
        switch result.outcome {
        case .output(let text): return "\(index) output \(String(decoding: text, as: UTF8.self)) \(metadata)"
        case .dropped: return "\(index) dropped \(metadata)"
        case .failed(let failure): return "\(index) \(failure.kind.name)\(failure.coversBatch ? " (batch)" : "") \(failure.message) \(metadata)"
        }
    }

    @Test func everyKindOfRecordInBothEncodings() {
        let text = "\u{1E}L0\u{1F}\"hé\\n\"\u{1F}\"m0\"" + "\u{1E}O0\u{1F}{\"a\":\"é😀\"}" + "\u{1E}D1" + "\u{1E}E2\u{1F}exception\u{1F}\"Error: no\""
            + "\u{1E}O12\u{1F}{}" + "\u{1E}F-1\u{1F}\"GET https://x\"" + "\u{1E}O-1\u{1F}{\"new\":true}" + "\u{1E}B3\u{1F}invalid_result\u{1F}\"not an array\""
        let metadata = (0..<13).map { #"{"i":\#($0)}"# }
        for parsed in parse(text, metadata: metadata) {
            #expect(parsed.results.map(describe) == [
                #"0 output {"a":"é😀"} {"i":0}"#, #"1 dropped {"i":1}"#, #"2 exception Error: no {"i":2}"#, #"12 output {} {"i":12}"#,
                #"none output {"new":true} {}"#, #"3 invalid_result (batch) not an array {"i":3}"#,
            ])
            #expect(parsed.logs.map { "\($0.inputIndex ?? -1) \($0.messageId ?? "-") \($0.text)" } == ["0 m0 hé\n"])
            #expect(parsed.unmockedRequests == ["GET https://x"])
            // Input 3 comes after the output that belongs to no input.
            #expect(!parsed.ordered)
        }
    }

    @Test func callTimesAddUpPerInputAndABatchCallsTimeIsShared() {
        for parsed in parse("\u{1E}T0\u{1F}1500\u{1E}O0\u{1F}{}\u{1E}T2\u{1F}70\u{1E}T2\u{1F}30\u{1E}T-1\u{1F}900", metadata: []) {
            #expect(parsed.results.count == 1)
            #expect(parsed.batchResult(early: [:], inputCount: 3).eventNanoseconds == [1800, 300, 400])
            #expect(parsed.batchResult(early: [:], inputCount: 0).eventNanoseconds == [])
        }
        // Without T records there are no times.
        #expect(parse("\u{1E}O0\u{1F}{}", metadata: [])[0].batchResult(early: [:], inputCount: 1).eventNanoseconds.isEmpty)
    }

    @Test func resultsInInputOrderAreSaidToBeOrderedAndEmptyRecordsAreSkipped() {
        for parsed in parse("\u{1E}\u{1E}O0\u{1F}{\"x\":1}\u{1E}O0\u{1F}{\"x\":2}\u{1E}D1\u{1E}O2\u{1F}{}", metadata: []) {
            #expect(parsed.results.map(describe) == [#"0 output {"x":1} "#, #"0 output {"x":2} "#, "1 dropped ", "2 output {} "])
            #expect(parsed.ordered)
        }
    }

    /// Outputs of every length around the vector widths the search for the record separator
    /// uses (16 UTF-16 units, 32 bytes), one after another, each whole and none merged.
    @Test func outputsOfEveryLengthEndAtTheirSeparator() {
        for length in 0..<80 {
            let outputs = (0..<3).map { n in "{\"k\":\"" + String(repeating: n == 1 ? "é" : "x", count: length) + "\"}" }
            let text = outputs.enumerated().map { "\u{1E}O\($0.offset)\u{1F}\($0.element)" }.joined() + "\u{1E}D3"
            for parsed in parse(text, metadata: []) {
                #expect(parsed.results.map(describe) == outputs.enumerated().map { "\($0.offset) output \($0.element) " } + ["3 dropped "],
                        "length \(length)")
            }
        }
    }
}
