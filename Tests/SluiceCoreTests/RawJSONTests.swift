@testable import SluiceCore
import Testing

@Suite struct RawJSONTests {
    func error(_ text: String) -> RawJSONError? {
        do {
            try RawJSON.validate(Array(text.utf8))
            return nil
        } catch {
            return error
        }
    }

    @Test func acceptsValidJSON() {
        for text in [
            "0", "-0.5e+10", "1E3", "true", "null", #""a\"\\\/\b\f\n\r\t\u00e9""#, "[]", "{}", " [ 1 , { \"a\" : [ ] } ] ",
            #"{"é":"😀","n":[1,2.5,-3,{"x":null}]}"#,
        ] {
            #expect(error(text) == nil, "\(text)")
        }
    }

    @Test func rejectsInvalidJSONWithTheOffset() {
        let cases: [(String, Int, String)] = [
            ("", 0, "unexpected end of input"),
            ("[1,]", 3, "expected a value"),
            ("[1 2]", 3, "expected ',' or ']'"),
            (#"{"a" 1}"#, 5, "expected ':' after a member name"),
            ("{a:1}", 1, "expected a member name in double quotes"),
            (#"{"a":1,}"#, 7, "expected a member name in double quotes"),
            ("01", 0, "invalid number (leading zero)"),
            ("1.", 2, "invalid number (no digits after '.')"),
            ("-", 1, "invalid number"),
            ("tru", 0, "expected a value"),
            (#""\x""#, 1, "invalid escape"),
            (#""\u12G4""#, 1, "invalid \u{5C}u escape"),
            ("\"a\nb\"", 2, "control character in a string"),
            (#""abc"#, 4, "unterminated string"),
            ("[1] 2", 4, "unexpected text after the JSON value"),
            ("[[1]", 4, "unexpected end of input"),
        ]
        for (text, offset, reason) in cases {
            #expect(error(text) == RawJSONError(offset: offset, reason: reason), "\(text)")
        }
    }

    @Test func deepNestingNeitherCrashesNorFails() {
        let depth = 200_000
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(error(text) == nil)
        #expect(error(String(repeating: "{\"a\":", count: depth)) == RawJSONError(offset: depth * 5, reason: "unexpected end of input"))
    }

    @Test func navigatesWithoutDecoding() throws {
        let bytes = Array(#" [ {"a": {"b": [1, "x"]}, "c": "d\u0021"}, 2 ] "#.utf8)
        let elements = try RawJSON.arrayElements(bytes)
        #expect(elements.map { String(decoding: bytes[$0], as: UTF8.self) } == [#"{"a": {"b": [1, "x"]}, "c": "d\u0021"}"#, "2"])
        let members = try #require(RawJSON.objectMembers(bytes, elements[0]))
        #expect(members.map(\.key) == ["a", "c"])
        #expect(RawJSON.string(bytes, members[1].value) == "d!")
        let b = try #require(RawJSON.member("b", of: bytes, in: members[0].value))
        #expect(RawJSON.elements(bytes, b)?.map { String(decoding: bytes[$0], as: UTF8.self) } == ["1", #""x""#])
        #expect(RawJSON.objectMembers(bytes, elements[1]) == nil)
        #expect(throws: RawJSONError(offset: 0, reason: "expected a JSON array")) { try RawJSON.arrayElements(Array("{}".utf8)) }
    }
}

@Suite struct RawJSONValuesTests {
    @Test func findsKeysByBytesIncludingEscapedOnesAndTheLastOfARepeat() throws {
        let bytes = Array(#"{"a":1,"s\u006Furce":"x","b":[1,{"a":2}],"a":3}"#.utf8)
        let found = try #require(RawJSON.values(of: [Array("a".utf8), Array("source".utf8), Array("zz".utf8)], in: 0..<bytes.count, of: bytes))
        #expect(found.map { $0.map { String(decoding: bytes[$0], as: UTF8.self) } } == ["3", #""x""#, nil])
        #expect(RawJSON.values(of: [Array("a".utf8)], in: 0..<1, of: Array("[".utf8)) == nil)
    }
}

@Suite struct RawJSONWordScanTests {
    @Test func theEightByteCheckAgreesWithTheByteByByteOne() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x00, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF]
        for _ in 0..<20_000 {
            let bytes = (0..<8).map { _ in Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0x20...0x7E, using: &generator) }
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let expected = bytes.contains { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
            #expect(RawJSON.hasSpecialByte(word) == expected, "\(bytes)")
        }
    }

    @Test func stringsAreCheckedWhereverTheSpecialByteFalls() throws {
        for position in 0..<20 {
            var text = Array(#"["abcdefghijklmnopqrstuvwxyz"]"#.utf8)
            text[2 + position] = 0x09
            #expect(throws: RawJSONError(offset: 2 + position, reason: "control character in a string")) { try RawJSON.validate(text) }
            var escaped = Array(#"["abcdefghijklmnopqrstuvwxyz"]"#.utf8)
            escaped[2 + position] = UInt8(ascii: "\\")
            escaped[3 + position] = UInt8(ascii: "n")
            try RawJSON.validate(escaped)
        }
    }
}

@Suite struct RawJSONDepthTests {
    @Test func nestingPastSixtyFourLevelsIsTrackedExactly() throws {
        for depth in [63, 64, 65, 130] {
            let mixed = (0..<depth).map { $0 % 3 == 0 ? "{\"k\":" : "[" }
            let closing = (0..<depth).reversed().map { $0 % 3 == 0 ? "}" : "]" }
            try RawJSON.validate(Array((mixed.joined() + "1" + closing.joined()).utf8))
            // Closing one level with the wrong bracket is caught at the right byte.
            var wrong = closing
            wrong[depth / 2] = wrong[depth / 2] == "}" ? "]" : "}"
            let text = mixed.joined() + "1" + wrong.joined()
            let offset = mixed.joined().utf8.count + 1 + depth / 2
            do {
                try RawJSON.validate(Array(text.utf8))
                Issue.record("a wrong closing bracket at depth \(depth) was accepted")
            } catch {
                #expect(error.offset == offset)
            }
        }
    }
}

@Suite struct RawJSONFirstSpecialByteTests {
    @Test func theLowestMarkedByteIsTheFirstSpecialOne() {
        var generator = SystemRandomNumberGenerator()
        let interesting: [UInt8] = [0x00, 0x01, 0x1F, 0x20, 0x21, 0x22, 0x23, 0x5B, 0x5C, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF]
        for _ in 0..<20_000 {
            let bytes = (0..<8).map { _ in Bool.random(using: &generator) ? interesting.randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator) }
            let word = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            let first = bytes.firstIndex { $0 == 0x22 || $0 == 0x5C || $0 < 0x20 }
            let mask = RawJSON.specialByteMask(word)
            #expect((mask == 0 ? nil : mask.trailingZeroBitCount / 8) == first, "\(bytes)")
        }
    }
}
