import Foundation
import SluiceCore
import SluiceTestSupport
import Testing
@testable import SluiceRuntime

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Helpers

/// An item record with the given JSON text and line.
private func item(_ json: String, _ line: Int) -> InputRecord {
    .item(InputItem(json: Array(json.utf8), line: line))
}

/// A malformed record whose message starts with "line N: ".
private func malformed(_ line: Int, _ message: String) -> InputRecord {
    .malformed(line: line, message: "line \(line): \(message)")
}

/// Every record of a reader.
private func readAll(_ reader: InputReader) throws -> [InputRecord] {
    var records: [InputRecord] = []
    while let record = try reader.next() {
        records.append(record)
    }
    // The end is sticky.
    #expect(try reader.next() == nil)
    return records
}

/// Writes `bytes` to a new temporary file and returns its path.
private func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let path = NSTemporaryDirectory() + "inputreader-\(UUID().uuidString).json"
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    return path
}

/// Buffer sizes that put buffer boundaries everywhere in small inputs.
private let smallBufferSizes = [1, 2, 3, 4, 5, 7, 8, 13, 64]

/// Reads `bytes` in memory and through a file descriptor with many buffer sizes, checks that every
/// way gives the same records, and returns them.
private func records(_ bytes: [UInt8], cap: Int = InputReader.defaultMaximumItemBytes,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [InputRecord] {
    let expected = try readAll(InputReader(bytes: bytes, maximumItemBytes: cap))
    let path = try temporaryFile(bytes)
    defer { unlink(path) }
    for bufferSize in smallBufferSizes + [InputReader.defaultBufferSize] {
        let descriptor = open(path, O_RDONLY)
        #expect(descriptor >= 0)
        defer { close(descriptor) }
        let reader = InputReader(fileDescriptor: descriptor, maximumItemBytes: cap, bufferSize: bufferSize)
        let viaDescriptor = try readAll(reader)
        #expect(viaDescriptor == expected, "buffer size \(bufferSize)", sourceLocation: sourceLocation)
        // The push entry point (the /v1 streaming run) splits the same bytes into the same records.
        var splitter = ItemSplitter(maximumItemBytes: cap)
        var pushed: [InputRecord] = []
        for start in stride(from: 0, to: bytes.count, by: bufferSize) {
            pushed += splitter.split(bytes[start ..< min(start + bufferSize, bytes.count)])
        }
        pushed += splitter.end()
        #expect(pushed == expected, "pushed in chunks of \(bufferSize)", sourceLocation: sourceLocation)
    }
    return expected
}

private func records(_ text: String, cap: Int = InputReader.defaultMaximumItemBytes,
                     sourceLocation: SourceLocation = #_sourceLocation) throws -> [InputRecord] {
    try records(Array(text.utf8), cap: cap, sourceLocation: sourceLocation)
}

// MARK: NDJSON

@Suite struct NDJSONTests {
    @Test func basics() throws {
        let input = """
            {"a":1}
            {"b":[1,2,3]}
            "text"
            42

            """
        #expect(try records(input) == [
            item(#"{"a":1}"#, 1),
            item(#"{"b":[1,2,3]}"#, 2),
            item(#""text""#, 3),
            item("42", 4),
        ])
    }

    @Test func linesArePassedThroughWithoutValidation() throws {
        let input = "{\"a\":1}\nnot json at all\n  {\"padded\": true}  \n{\"b\":\n"
        #expect(try records(input) == [
            item(#"{"a":1}"#, 1),
            item("not json at all", 2),
            item(#"  {"padded": true}  "#, 3),
            item(#"{"b":"#, 4),
        ])
    }

    @Test func blankLinesAndCRLF() throws {
        let input = "{\"a\":1}\r\n\r\n  \t \n\n{\"b\":2}\r\n \r\n{\"c\":\"x\\r\"}\n"
        #expect(try records(input) == [
            item(#"{"a":1}"#, 1),
            item(#"{"b":2}"#, 5),
            item(#"{"c":"x\r"}"#, 7),
        ])
    }

    @Test func onlyOneTrailingCarriageReturnIsRemoved() throws {
        #expect(try records("1\r\r\n2\r") == [item("1\r", 1), item("2", 2)])
    }

    @Test func missingFinalNewline() throws {
        #expect(try records("{\"a\":1}\n{\"b\":2}") == [item(#"{"a":1}"#, 1), item(#"{"b":2}"#, 2)])
        #expect(try records("7") == [item("7", 1)])
    }

    @Test func leadingBlankLinesKeepLineNumbersAndIndentation() throws {
        #expect(try records("\n\n  \r\n   {\"a\":1}\n\n{\"b\":2}\n") == [
            item(#"   {"a":1}"#, 4),
            item(#"{"b":2}"#, 6),
        ])
    }

    @Test func emptyAndWhitespaceOnlyInputs() throws {
        #expect(try records("") == [])
        #expect(try records(" \n\t\r\n\n   ") == [])
        #expect(try records([0xEF, 0xBB, 0xBF]) == [])
        #expect(try records([0xEF, 0xBB, 0xBF, 0x0A, 0x20]) == [])
    }

    @Test func byteOrderMarkIsSkipped() throws {
        #expect(try records("\u{FEFF}{\"a\":1}\n{\"b\":2}\n") == [item(#"{"a":1}"#, 1), item(#"{"b":2}"#, 2)])
        #expect(try records("\u{FEFF}\n\n{\"a\":1}") == [item(#"{"a":1}"#, 3)])
    }

    @Test func partialByteOrderMarkIsContent() throws {
        #expect(try records([0xEF, 0xBB, 0x31, 0x0A, 0x32]) == [
            .item(InputItem(json: [0xEF, 0xBB, 0x31], line: 1)),
            item("2", 2),
        ])
        #expect(try records([0xEF, 0xBB]) == [.item(InputItem(json: [0xEF, 0xBB], line: 1))])
    }

    @Test func overCapLineIsSkippedAndLaterLinesAreRead() throws {
        let input = """
            {"a":1}
            {"big":"0123456789abcdef"}
            {"b":2}
            0123456789abcdef
            0123456789abcdefg
            {"c":3}
            """
        #expect(try records(input, cap: 16) == [
            item(#"{"a":1}"#, 1),
            malformed(2, "item is larger than the 16-byte item cap"),
            item(#"{"b":2}"#, 3),
            item("0123456789abcdef", 4),
            malformed(5, "item is larger than the 16-byte item cap"),
            item(#"{"c":3}"#, 6),
        ])
    }

    @Test func capIgnoresTheTrailingCarriageReturn() throws {
        #expect(try records("0123456789abcdef\r\n0123456789abcdefg\r\nx\r\n", cap: 16) == [
            item("0123456789abcdef", 1),
            malformed(2, "item is larger than the 16-byte item cap"),
            item("x", 3),
        ])
    }

    @Test func overCapLastLineWithoutNewline() throws {
        #expect(try records("1\n{\"key\":\"a long value here\"}", cap: 16) == [
            item("1", 1),
            malformed(2, "item is larger than the 16-byte item cap"),
        ])
    }

    @Test func overCapBlankLinesAreSkippedSilently() throws {
        let spaces = String(repeating: " ", count: 40)
        let input = "\(spaces)\n1\n\(spaces)\t\r\n\(spaces)x\n2"
        #expect(try records(input, cap: 16) == [
            item("1", 2),
            malformed(4, "item is larger than the 16-byte item cap"),
            item("2", 5),
        ])
        // Long leading whitespace before the first item.
        #expect(try records("\(spaces)1\n2", cap: 16) == [
            malformed(1, "item is larger than the 16-byte item cap"),
            item("2", 2),
        ])
    }

    @Test func capMessagesUseTheLargestExactUnit() throws {
        #expect(ItemSplitter.describeCap(16 << 20) == "16 MB")
        #expect(ItemSplitter.describeCap(64 << 10) == "64 KB")
        #expect(ItemSplitter.describeCap(100) == "100-byte")
        let line = [UInt8](repeating: UInt8(ascii: "7"), count: (1 << 20) + 1)
        let reader = InputReader(bytes: line + [0x0A] + Array("8".utf8), maximumItemBytes: 1 << 20)
        #expect(try readAll(reader) == [
            malformed(1, "item is larger than the 1 MB item cap"),
            item("8", 2),
        ])
    }
}

// MARK: JSON array

@Suite struct JSONArrayTests {
    @Test func nestedValues() throws {
        let input = #"[{"a":{"b":[1,2,{"c":3}]}},[1,[2,[3]]], "s" ,42,true,null,-1.5e3,{}]"#
        #expect(try records(input) == [
            item(#"{"a":{"b":[1,2,{"c":3}]}}"#, 1),
            item("[1,[2,[3]]]", 1),
            item(#""s""#, 1),
            item("42", 1),
            item("true", 1),
            item("null", 1),
            item("-1.5e3", 1),
            item("{}", 1),
        ])
    }

    @Test func stringsWithStructuralCharacters() throws {
        let input = #"["a,b", "x]y}z", "q\"uote", "back\\", {"k":"\\\"],{"}, "\\\\", "end"]"#
        #expect(try records(input) == [
            item(#""a,b""#, 1),
            item(#""x]y}z""#, 1),
            item(#""q\"uote""#, 1),
            item(#""back\\""#, 1),
            item(#"{"k":"\\\"],{"}"#, 1),
            item(#""\\\\""#, 1),
            item(#""end""#, 1),
        ])
    }

    @Test func prettyPrintedArray() throws {
        let input = """
            [
              {
                "id": 1,
                "tags": ["a", "b"]
              },
              {
                "id": 2,
                "text": "line\\nbreak, with comma"
              }
              ,
              3
            ]

            """
        #expect(try records(input) == [
            item("{\n    \"id\": 1,\n    \"tags\": [\"a\", \"b\"]\n  }", 2),
            item("{\n    \"id\": 2,\n    \"text\": \"line\\nbreak, with comma\"\n  }", 6),
            item("3", 11),
        ])
    }

    @Test func surroundingWhitespaceIsTrimmed() throws {
        #expect(try records("  \r\n [  1  ,\n\t\"a b\"\r\n ,\n\n { \"x\" : 1 }\n ]\n") == [
            item("1", 2),
            item("\"a b\"", 3),
            item("{ \"x\" : 1 }", 6),
        ])
    }

    @Test func byteOrderMark() throws {
        #expect(try records("\u{FEFF}\n [1,\n2]") == [item("1", 2), item("2", 3)])
    }

    @Test func emptyArray() throws {
        #expect(try records("[]") == [])
        #expect(try records("\n  [ \n\t ]  \n") == [])
    }

    @Test func emptyElement() throws {
        #expect(try records("[1,,2]") == [
            item("1", 1),
            malformed(1, "empty array element"),
            item("2", 1),
        ])
        #expect(try records("[,1]") == [malformed(1, "empty array element"), item("1", 1)])
        #expect(try records("[1,\n  ,\n2]") == [
            item("1", 1),
            malformed(1, "empty array element"),
            item("2", 3),
        ])
    }

    @Test func trailingComma() throws {
        #expect(try records("[1,]") == [item("1", 1), malformed(1, "empty array element")])
        #expect(try records("[\n  1,\n  2,\n]\n") == [
            item("1", 2),
            item("2", 3),
            malformed(3, "empty array element"),
        ])
    }

    @Test func unterminatedArray() throws {
        #expect(try records("[1, 2") == [item("1", 1), malformed(1, "unterminated JSON array (missing ']')")])
        #expect(try records("[\n{\"a\":1},\n{\"b\":") == [
            item(#"{"a":1}"#, 2),
            malformed(3, "unterminated JSON array (missing ']')"),
        ])
        #expect(try records("[") == [malformed(1, "unterminated JSON array (missing ']')")])
        #expect(try records("[1,\n\n") == [item("1", 1), malformed(1, "unterminated JSON array (missing ']')")])
        #expect(try records("[\"abc]\n") == [malformed(1, "unterminated JSON array (missing ']')")])
        #expect(try records("[[1,2]\n") == [malformed(1, "unterminated JSON array (missing ']')")])
    }

    @Test func trailingData() throws {
        #expect(try records("[1]\n\n x") == [item("1", 1), malformed(3, "unexpected data after the end of the JSON array")])
        #expect(try records("[1][2]") == [item("1", 1), malformed(1, "unexpected data after the end of the JSON array")])
        #expect(try records("[1] \r\n\t\n") == [item("1", 1)])
    }

    @Test func unbalancedClosingBrace() throws {
        #expect(try records(#"[{"a":1}}]"#) == [malformed(1, "unbalanced '}' in array element")])
        #expect(try records("[\n{\"a\":1}},\n{\"b\":2}, }, 3\n]") == [
            malformed(2, "unbalanced '}' in array element"),
            item(#"{"b":2}"#, 3),
            malformed(3, "unbalanced '}' in array element"),
            item("3", 3),
        ])
    }

    @Test func overCapElementIsSkipped() throws {
        let input = """
            [1, "0123456789abcdefghij",
             {"x":[1,2,3], "y": ",]}"},
             {"nested": [1, 2, 3, 4, 5, 6, 7, 8, 9]},
             "0123456789abcd",
             2]
            """
        #expect(try records(input, cap: 16) == [
            item("1", 1),
            malformed(1, "item is larger than the 16-byte item cap"),
            malformed(2, "item is larger than the 16-byte item cap"),
            malformed(3, "item is larger than the 16-byte item cap"),
            item(#""0123456789abcd""#, 4),
            item("2", 5),
        ])
    }

    @Test func capCountsTrimmedBytesOnly() throws {
        let spaces = String(repeating: " ", count: 40)
        #expect(try records("[\(spaces)\"0123456789abcd\"\(spaces),\(spaces)7\(spaces)]", cap: 16) == [
            item(#""0123456789abcd""#, 1),
            item("7", 1),
        ])
        // Inner whitespace counts.
        #expect(try records("[{\"a\":\(spaces)1}, 2]", cap: 16) == [
            malformed(1, "item is larger than the 16-byte item cap"),
            item("2", 1),
        ])
    }

    @Test func overCapUnterminatedElement() throws {
        #expect(try records("[1, \"0123456789abcdefghijk", cap: 16) == [
            item("1", 1),
            malformed(1, "item is larger than the 16-byte item cap"),
            malformed(1, "unterminated JSON array (missing ']')"),
        ])
    }

    @Test func leadingLineIsNotAnArrayWhenNotFirst() throws {
        // A '[' that is not the first non-blank byte is an ordinary NDJSON line.
        #expect(try records("1\n[2,3]\n") == [item("1", 1), item("[2,3]", 2)])
    }
}

// MARK: Descriptors, paths and batches

@Suite struct ReaderSourceTests {
    @Test func bufferBoundaryInsideItems() throws {
        let input = Array("[{\"key\": \"value, with ] and } inside\"},\n {\"n\": [1, 2, 3]}]".utf8)
        let path = try temporaryFile(input)
        defer { unlink(path) }
        let descriptor = open(path, O_RDONLY)
        defer { close(descriptor) }
        let reader = InputReader(fileDescriptor: descriptor, bufferSize: 6)
        #expect(try readAll(reader) == [
            item(#"{"key": "value, with ] and } inside"}"#, 1),
            item(#"{"n": [1, 2, 3]}"#, 2),
        ])
    }

    @Test func filesLargerThanTheBuffer() throws {
        let count = 40_000
        func event(_ index: Int) -> String {
            #"{"id":\#(index),"name":"event \#(index)","payload":{"values":[\#(index),\#(index * 2)],"note":"a, b ] c"}}"#
        }
        let ndjson = (0 ..< count).map { event($0) + "\n" }.joined()
        let array = "[\n" + (0 ..< count).map { "  " + event($0) }.joined(separator: ",\n") + "\n]\n"
        #expect(ndjson.utf8.count > 3 * InputReader.defaultBufferSize)

        for (text, firstLine) in [(ndjson, 1), (array, 2)] {
            let path = try temporaryFile(Array(text.utf8))
            defer { unlink(path) }
            let reader = try InputReader(path: path)
            let all = try readAll(reader)
            #expect(all.count == count)
            for index in [0, 1, 9_999, 10_486, 23_456, count - 1] {
                #expect(all[index] == item(event(index), index + firstLine))
            }
            let everyItemMatches = all.enumerated().allSatisfy { $1 == item(event($0), $0 + firstLine) }
            #expect(everyItemMatches)
        }
    }

    @Test func openingAMissingPathNamesThePathAndError() throws {
        let path = "/nonexistent/inputreader-missing.json"
        do {
            _ = try InputReader(path: path)
            Issue.record("expected an error")
        } catch let error as InputReaderError {
            #expect(error.description == "cannot open '/nonexistent/inputreader-missing.json': No such file or directory")
        }
    }

    @Test func readErrorsAreThrown() throws {
        let reader = try InputReader(path: NSTemporaryDirectory())
        do {
            _ = try reader.next()
            Issue.record("expected an error")
        } catch let error as InputReaderError {
            #expect(error.description == "cannot read '\(NSTemporaryDirectory())': Is a directory")
        }
    }

    @Test func nextUpTo() throws {
        let reader = InputReader(bytes: Array("1\n2\n3\n\n4\n5".utf8))
        #expect(try reader.next(upTo: 2) == [item("1", 1), item("2", 2)])
        #expect(try reader.next(upTo: 0) == [])
        #expect(try reader.next(upTo: 2) == [item("3", 3), item("4", 5)])
        #expect(try reader.next(upTo: 2) == [item("5", 6)])
        #expect(try reader.next(upTo: 2) == [])

        let arrayReader = InputReader(bytes: Array("[1,,2] x".utf8))
        #expect(try arrayReader.next(upTo: 10) == [
            item("1", 1),
            malformed(1, "empty array element"),
            item("2", 1),
            malformed(1, "unexpected data after the end of the JSON array"),
        ])
        #expect(try arrayReader.next(upTo: 10) == [])
    }
}

// MARK: Randomised checks

/// A random JSON value whose strings contain structural characters, escapes and newlines escapes.
private func randomValue(_ random: inout SeededGenerator, depth: Int = 0) -> String {
    let pieces = ["a", ",", "]", "}", "[", "{", "\\\"", "\\\\", " ", "\\n", "é"]
    switch Int.random(in: 0 ..< (depth < 3 ? 6 : 4), using: &random) {
    case 0: return String(Int.random(in: -1000 ... 1000, using: &random))
    case 1: return ["true", "false", "null"].randomElement(using: &random)!
    case 2, 3:
        let count = Int.random(in: 0 ... 5, using: &random)
        return "\"" + (0 ..< count).map { _ in pieces.randomElement(using: &random)! }.joined() + "\""
    case 4:
        let count = Int.random(in: 0 ... 3, using: &random)
        let elements = (0 ..< count).map { _ in randomValue(&random, depth: depth + 1) }
        return "[" + elements.joined(separator: Bool.random(using: &random) ? "," : ",\n  ") + "]"
    default:
        let count = Int.random(in: 0 ... 3, using: &random)
        let members = (0 ..< count).map { index in "\"k\(index)\": " + randomValue(&random, depth: depth + 1) }
        return "{" + members.joined(separator: Bool.random(using: &random) ? "," : ",\n    ") + "}"
    }
}

@Suite struct RandomisedTests {
    @Test func randomArraysSplitIntoTheirElements() throws {
        var random = SeededGenerator(state: 42)
        let whitespace = ["", " ", "\n", "\r\n", "\t", " \n  "]
        for _ in 0 ..< 150 {
            var text = whitespace.randomElement(using: &random)! + "["
            var expected: [InputRecord] = []
            let count = Int.random(in: 0 ... 6, using: &random)
            for index in 0 ..< count {
                if index > 0 { text += "," }
                text += whitespace.randomElement(using: &random)!
                let value = randomValue(&random)
                let line = text.utf8.filter { $0 == 0x0A }.count + 1
                expected.append(item(value, line))
                text += value + whitespace.randomElement(using: &random)!
            }
            text += "]" + whitespace.randomElement(using: &random)!
            #expect(try records(text) == expected, "input: \(text.debugDescription)")
        }
    }

    @Test func randomNDJSONSplitsIntoLines() throws {
        var random = SeededGenerator(state: 7)
        for _ in 0 ..< 150 {
            var text = ""
            var expected: [InputRecord] = []
            var line = 1
            for _ in 0 ..< Int.random(in: 0 ... 6, using: &random) {
                if Bool.random(using: &random) {
                    text += [" ", "", "\t\r"].randomElement(using: &random)! + "\n"
                } else {
                    // Escaped newlines only: one value per line.
                    let value = "{\"v\":" + randomValue(&random, depth: 3) + "}"
                    expected.append(item(value, line))
                    text += value + ["\n", "\r\n"].randomElement(using: &random)!
                }
                line += 1
            }
            #expect(try records(text) == expected, "input: \(text.debugDescription)")
        }
    }

    /// Arbitrary (mostly invalid) inputs must give the same records whatever the buffer size.
    @Test func arbitraryInputsAreIndependentOfBufferBoundaries() throws {
        var random = SeededGenerator(state: 2024)
        let alphabet: [[UInt8]] = ["[", "]", "{", "}", ",", "\"", "\\", " ", "\n", "\r", "a", "1", "   ", "\"xyz\""]
            .map { Array($0.utf8) } + [[0xEF, 0xBB, 0xBF], [0xEF]]
        for _ in 0 ..< 300 {
            var bytes: [UInt8] = []
            for _ in 0 ..< Int.random(in: 0 ... 40, using: &random) {
                bytes += alphabet.randomElement(using: &random)!
            }
            let cap = Int.random(in: 1 ... 12, using: &random)
            _ = try records(bytes, cap: cap)
        }
    }
}
