import SluiceCore

/// Integer literals in the input that a JavaScript number may not hold exactly.
///
/// `JSON.parse` reads every number as a double, so `12345678901234567890` becomes
/// `12345678901234567000` and an identity transformation would change the event. The engine
/// finds the integers of 16 digits or more (every integer up to 15 digits is exact; 2^53 has 16)
/// in the items the transcoder flagged (``InputText``: a run of that many ASCII digits), and
/// hands their text to the driver, which writes an output number equal to such a literal's double
/// with the literal's own digits (`JSON.rawJSON`). Items without long digit runs — nearly all —
/// cost nothing beyond the transcoder's check.
enum LongIntegers {
    /// Digits from which an integer may not be exact in a double (2^53 = 9007199254740992).
    static let minimumDigits = 16

    /// The literals of the items at `candidates`, for the driver: `index␟literal␟literal␞index␟…`,
    /// or "" when there are none.
    static func driverText(_ items: [JSONText], candidates: [Int]) -> String {
        var records: [String] = []
        for index in candidates where index < items.count {
            let literals = integerLiterals(in: items[index])
            if !literals.isEmpty { records.append(([String(index)] + literals).joined(separator: "\u{1F}")) }
        }
        return records.joined(separator: "\u{1E}")
    }

    /// Integer literals (no fraction, no exponent) of ``minimumDigits`` digits or more, outside
    /// strings, in the order they appear. Tolerates text that is not valid JSON (the engine fails
    /// such items on its own).
    static func integerLiterals(in text: JSONText) -> [String] {
        var literals: [String] = []
        var index = 0
        let count = text.count
        func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        while index < count {
            let byte = text[index]
            if byte == 0x22 {  // a string: skip to its closing quote
                index += 1
                while index < count && text[index] != 0x22 { index += text[index] == 0x5C ? 2 : 1 }
                index += 1
            } else if byte == 0x2D || isDigit(byte) {
                let start = index
                if byte == 0x2D { index += 1 }
                let digitsStart = index
                while index < count && isDigit(text[index]) { index += 1 }
                let digitCount = index - digitsStart
                var integer = true
                // A fraction or exponent: not an integer literal; skip the rest of the number.
                while index < count, text[index] == 0x2E || text[index] == 0x65 || text[index] == 0x45
                    || text[index] == 0x2B || text[index] == 0x2D || isDigit(text[index]) {
                    integer = false
                    index += 1
                }
                if integer && digitCount >= minimumDigits {
                    literals.append(String(decoding: text[start..<digitsStart + digitCount], as: UTF8.self))
                }
            } else {
                index += 1
            }
        }
        return literals
    }
}
