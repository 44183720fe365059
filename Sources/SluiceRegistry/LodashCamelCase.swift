import Foundation

/// lodash 4.17's `_.camelCase`, which rudder-transformer applies to a library's `name` to get the
/// name code imports it by (`"UAParser"` → `uaParser`, `"my-lib v2"` → `myLibV2`). Reproduced
/// rule for rule, because a library whose import name differs by one letter is "Module not
/// found" for every event:
///
/// 1. deburr: Latin-1 Supplement and Latin Extended-A letters become basic Latin (`é` → `e`,
///    `Æ` → `Ae`, `ß` → `ss`), combining marks are removed;
/// 2. apostrophes (`'` and `’`) are removed;
/// 3. the text is split into words by lodash's `reUnicodeWord` (case changes, digit runs,
///    ordinals, emoji, with everything in its break set — ASCII punctuation and spaces,
///    U+0080–U+00BF, General Punctuation — dropped);
/// 4. the first word is lowercased, every later one lowercased with its first symbol uppercased,
///    and the words are joined.
///
/// lodash's regular expressions work on UTF-16 code units with ASCII-only `\d` and `\b`; the
/// pattern below is the same expression for ICU, which works on code points: astral code points
/// are excluded from the "other letter" class explicitly and the word boundary is spelled out.
/// `Tests/SluiceRegistryTests/CamelCaseTests.swift` checks it against 327 names run through the
/// real lodash.
public enum LodashCamelCase {
    public static func camelCase(_ text: String) -> String {
        let prepared = deburr(text).replacingOccurrences(of: "'", with: "").replacingOccurrences(of: "\u{2019}", with: "")
        var result = ""
        for (index, word) in words(prepared).enumerated() {
            let lower = (word as NSString).lowercased
            result += index == 0 ? lower : upperFirst(lower)
        }
        return result
    }

    /// lodash's `words()` on an already deburred text.
    static func words(_ text: String) -> [String] {
        let string = text as NSString
        return wordPattern.matches(in: text, range: NSRange(location: 0, length: string.length)).map { string.substring(with: $0.range) }
    }

    // MARK: - The word pattern

    private static let upper = #"[A-Z\x{C0}-\x{D6}\x{D8}-\x{DE}]"#
    private static let lower = #"[a-z\x{DF}-\x{F6}\x{F8}-\x{FF}]"#
    /// lodash's rsBreakRange: ASCII other than letters and digits, all of U+0080–U+00BF, × ÷,
    /// General Punctuation (ZWJ and ZWSP included) and the other spaces.
    private static let breakSet = #"\x{00}-\x{2F}\x{3A}-\x{40}\x{5B}-\x{60}\x{7B}-\x{BF}\x{D7}\x{F7}\x{1680}\x{180E}\x{2000}-\x{206F}\x{3000}\x{FEFF}"#
    private static let breakClass = "[" + breakSet + "]"
    /// Any other BMP character: not a break, digit, Dingbat or Latin letter above, not astral.
    private static let misc = #"[^\x{10000}-\x{10FFFF}"# + breakSet + #"0-9\x{2700}-\x{27BF}a-z\x{DF}-\x{F6}\x{F8}-\x{FF}A-Z\x{C0}-\x{D6}\x{D8}-\x{DE}]"#
    private static let miscUpper = "(?:" + upper + "|" + misc + ")"
    private static let miscLower = "(?:" + lower + "|" + misc + ")"
    private static let astral = #"[\x{10000}-\x{10FFFF}]"#
    private static let regional = #"[\x{1F1E6}-\x{1F1FF}]{2}"#
    private static let modifier = #"(?:[\x{0300}-\x{036F}\x{FE20}-\x{FE2F}\x{20D0}-\x{20FF}]|[\x{1F3FB}-\x{1F3FF}])?"#
    private static let variation = #"[\x{FE0E}\x{FE0F}]?"#
    private static let join = #"(?:\x{200D}(?:"# + regional + #"|[^\x{D800}-\x{DFFF}])"# + variation + modifier + ")*"
    private static let emoji = #"(?:[\x{2700}-\x{27BF}]|"# + regional + "|" + astral + ")" + variation + modifier + join

    /// reUnicodeWord's eight alternatives, in lodash's order (contraction suffixes left out: the
    /// apostrophes are gone before words are split). `\z` for JavaScript's `$` without the `m`
    /// flag; `(?![a-z0-9])` for an ordinal's `(?=\b|[A-Z_])` with JavaScript's ASCII `\b`.
    static let wordPattern: NSRegularExpression = {
        let alternatives = [
            upper + "?" + lower + "+(?=" + breakClass + "|" + upper + #"|\z)"#,
            miscUpper + "+(?=" + breakClass + "|" + upper + miscLower + #"|\z)"#,
            upper + "?" + miscLower + "+",
            upper + "+",
            "[0-9]*(?:1ST|2ND|3RD|(?![123])[0-9]TH)(?![A-Z0-9])",
            "[0-9]*(?:1st|2nd|3rd|(?![123])[0-9]th)(?![a-z0-9])",
            "[0-9]+",
            emoji,
        ]
        return try! NSRegularExpression(pattern: alternatives.joined(separator: "|"))
    }()

    // MARK: - Case

    /// The word with its first symbol (a code point with the marks, variation selector, skin tone
    /// and ZWJ-joined parts that follow it) uppercased.
    static func upperFirst(_ word: String) -> String {
        let scalars = Array(word.unicodeScalars)
        guard !scalars.isEmpty else { return word }
        func isAttached(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x0300...0x036F, 0xFE20...0xFE2F, 0x20D0...0x20FF, 0xFE0E, 0xFE0F, 0x1F3FB...0x1F3FF: return true
            default: return false
            }
        }
        var end = 1
        while end < scalars.count {
            if isAttached(scalars[end]) {
                end += 1
            } else if scalars[end] == "\u{200D}", end + 1 < scalars.count {
                end += 2
            } else {
                break
            }
        }
        var first = String.UnicodeScalarView()
        first.append(contentsOf: scalars[..<end])
        var rest = String.UnicodeScalarView()
        rest.append(contentsOf: scalars[end...])
        return (String(first) as NSString).uppercased + String(rest)
    }

    // MARK: - deburr

    static func deburr(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0300...0x036F, 0xFE20...0xFE2F, 0x20D0...0x20FF:
                continue
            case 0xC0...0x17F:
                if let replacement = deburred[scalar.value] {
                    result.append(contentsOf: replacement.unicodeScalars)
                } else {
                    result.append(scalar)
                }
            default:
                result.append(scalar)
            }
        }
        return String(result)
    }

    /// lodash's `deburredLetters`: U+00C0–U+00FF (but × and ÷) and U+0100–U+017F.
    private static let deburred: [UInt32: String] = {
        let groups: [(String, String)] = [
            ("ÀÁÂÃÄÅ", "A"), ("àáâãäå", "a"), ("Ç", "C"), ("ç", "c"), ("Ð", "D"), ("ð", "d"),
            ("ÈÉÊË", "E"), ("èéêë", "e"), ("ÌÍÎÏ", "I"), ("ìíîï", "i"), ("Ñ", "N"), ("ñ", "n"),
            ("ÒÓÔÕÖØ", "O"), ("òóôõöø", "o"), ("ÙÚÛÜ", "U"), ("ùúûü", "u"), ("Ý", "Y"), ("ýÿ", "y"),
            ("Æ", "Ae"), ("æ", "ae"), ("Þ", "Th"), ("þ", "th"), ("ß", "ss"),
            ("ĀĂĄ", "A"), ("āăą", "a"), ("ĆĈĊČ", "C"), ("ćĉċč", "c"), ("ĎĐ", "D"), ("ďđ", "d"),
            ("ĒĔĖĘĚ", "E"), ("ēĕėęě", "e"), ("ĜĞĠĢ", "G"), ("ĝğġģ", "g"), ("ĤĦ", "H"), ("ĥħ", "h"),
            ("ĨĪĬĮİ", "I"), ("ĩīĭįı", "i"), ("Ĵ", "J"), ("ĵ", "j"), ("Ķ", "K"), ("ķĸ", "k"),
            ("ĹĻĽĿŁ", "L"), ("ĺļľŀł", "l"), ("ŃŅŇŊ", "N"), ("ńņňŋ", "n"), ("ŌŎŐ", "O"), ("ōŏő", "o"),
            ("ŔŖŘ", "R"), ("ŕŗř", "r"), ("ŚŜŞŠ", "S"), ("śŝşšſ", "s"), ("ŢŤŦ", "T"), ("ţťŧ", "t"),
            ("ŨŪŬŮŰŲ", "U"), ("ũūŭůűų", "u"), ("Ŵ", "W"), ("ŵ", "w"), ("ŶŸ", "Y"), ("ŷ", "y"),
            ("ŹŻŽ", "Z"), ("źżž", "z"), ("Ĳ", "IJ"), ("ĳ", "ij"), ("Œ", "Oe"), ("œ", "oe"), ("ŉ", "'n"),
        ]
        var table: [UInt32: String] = [:]
        for (letters, replacement) in groups {
            for scalar in letters.unicodeScalars { table[scalar.value] = replacement }
        }
        return table
    }()
}
