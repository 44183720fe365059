@testable import SluiceJavaScript
import SluiceCore
import Testing

@Suite struct LongIntegerTests {
    func hasLongDigitRun(_ text: String) -> Bool {
        var output: [UInt16] = []
        var longDigitRun = false
        #expect(InputText.transcode(Array(text.utf8), to: &output, longDigitRun: &longDigitRun))
        #expect(output == Array(text.utf16), "the text itself is unchanged")
        return longDigitRun
    }

    /// Every position of a 16-digit run relative to the transcoder's eight-byte words, with ASCII
    /// and non-ASCII before it, is found; 15 digits are not a long run.
    @Test func theTranscoderFindsEveryRunOfSixteenDigits() {
        for prefix in ["", "a", "ab", "abc", "abcdefg", "é", "日本", "🎉x", String(repeating: "z", count: 13)] {
            for suffix in ["", "}", "x}", ",0123456,", String(repeating: "é", count: 9)] {
                #expect(hasLongDigitRun(prefix + "1234567890123456" + suffix), "\(prefix)|\(suffix)")
                #expect(!hasLongDigitRun(prefix + "123456789012345" + suffix), "\(prefix)|\(suffix)")
                #expect(!hasLongDigitRun(prefix + "12345678:12345678" + suffix), "\(prefix)|\(suffix)")
            }
        }
        #expect(!hasLongDigitRun(#"{"timestamp":"2026-11-01T14:30:41.388Z","ms":1762007441388,"id":"c2ce6f44-7ed4-457b-9e2f"}"#))
    }

    /// Digit runs of every length around sixteen, at every offset from the start of their ASCII
    /// run (which may follow a multi-byte character), are long exactly when they have sixteen
    /// digits; digits on both sides of a non-ASCII character are two runs.
    @Test func runsAreLongFromSixteenDigitsAtEveryOffset() {
        for lead in ["", "é", "x日"] {
            for offset in 0..<24 {
                for length in [7, 8, 9, 15, 16, 17, 23, 24, 25, 40] {
                    for tail in ["", "x", "é", String(repeating: "y", count: 9)] {
                        let text = lead + String(repeating: "z", count: offset) + String(repeating: "7", count: length) + tail
                        #expect(hasLongDigitRun(text) == (length >= 16), "\(lead)|\(offset)|\(length)|\(tail)")
                    }
                }
            }
        }
        for split in ["12345678é12345678", "123456789012345日6", "0123456789abcdef0123456789"] {
            #expect(!hasLongDigitRun(split), "\(split)")
        }
    }

    /// Random text of ASCII letters and digits with some multi-byte characters: the transcoder's
    /// UTF-16 is the string's own, and its long-run flag matches counting digits one by one.
    @Test func theTranscoderAgreesWithAPlainCount() {
        var generator = SystemRandomNumberGenerator()
        let pieces = ["a", "z", "\"", ":", "0", "1", "5", "9", "3", "7", "é", "日", "🎉"]
        for _ in 0..<3_000 {
            let text = (0..<Int.random(in: 0..<120, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            var digits = 0, longest = 0
            for byte in text.utf8 {
                digits = (0x30...0x39).contains(byte) ? digits + 1 : 0
                longest = max(longest, digits)
            }
            #expect(hasLongDigitRun(text) == (longest >= 16), "\(text)")
        }
    }

    @Test func literalsAreIntegersOfSixteenDigitsOrMoreOutsideStrings() {
        let text = #"{"a":12345678901234567890,"b":"12345678901234567890","c":1.2345678901234567890,"d":-12345678901234567890,"#
            + #""e":1234567890123456e5,"f":[123456789012345678,1],"g":"x\"1234567890123456789","h":123456789012345,"i":9007199254740993}"#
        #expect(LongIntegers.integerLiterals(in: Array(text.utf8)) == [
            "12345678901234567890", "-12345678901234567890", "123456789012345678", "9007199254740993",
        ])
    }

    @Test func theDriverTextListsOnlyTheItemsWithLiterals() {
        let items = [#"{"a":1}"#, #"{"b":12345678901234567890,"c":[-98765432109876543210]}"#, #"{"s":"12345678901234567890"}"#].map { Array($0.utf8) }
        #expect(LongIntegers.driverText(items, candidates: [1, 2]) == "1\u{1F}12345678901234567890\u{1F}-98765432109876543210")
        #expect(LongIntegers.driverText(items, candidates: []) == "")
    }
}
