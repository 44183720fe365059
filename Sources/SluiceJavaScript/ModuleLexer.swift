/// A JavaScript tokenizer just precise enough to find a module's top-level `import` and `export`
/// declarations: it knows strings, template literals (with nested `${…}`), comments and regular
/// expression literals, so none of those can fool the rewrite.
///
/// It works on UTF-8 bytes; byte offsets are what ``ModuleRewriter`` edits. Non-ASCII bytes are
/// treated as identifier characters (they can only appear in identifiers, strings, templates,
/// comments and regexes, all of which the lexer consumes whole).
struct ModuleLexer {
    enum Kind: Equatable {
        case identifier
        case punctuator
        case string
        case template
        case number
        case regex
    }

    struct Token {
        var kind: Kind
        /// Byte range in the source.
        var start: Int
        var end: Int
        /// Nesting of `(`, `[`, `{` and template substitutions before this token.
        var depth: Int
        /// True when a line break separates this token from the previous one.
        var afterLineBreak: Bool
    }

    struct LexError: Error {
        var offset: Int
        var message: String
    }

    let bytes: [UInt8]

    init(_ source: String) {
        bytes = Array(source.utf8)
    }

    func text(_ token: Token) -> String {
        String(decoding: bytes[token.start..<token.end], as: UTF8.self)
    }

    /// The whole token list. Comments and whitespace are skipped.
    func tokenize() throws(LexError) -> [Token] {
        var tokens: [Token] = []
        tokens.reserveCapacity(bytes.count / 4)
        // Each open bracket pushes its byte; a template substitution pushes `$`.
        var stack: [UInt8] = []
        var index = 0
        var sawLineBreak = false
        let count = bytes.count
        // For each open `(`: whether it opens the head of `if`/`while`/`for`/`with`, after whose
        // `)` a `/` starts a regular expression (`if (x) /re/.test(y)`).
        var parenthesesOpenControlHead: [Bool] = []
        var lastCloseEndedControlHead = false

        func regexAllowed() -> Bool {
            guard let last = tokens.last else { return true }
            switch last.kind {
            case .number, .string, .template, .regex:
                return false
            case .identifier:
                let word = text(last)
                return Self.keywordsBeforeExpression.contains(word)
            case .punctuator:
                let byte = bytes[last.start]
                let length = last.end - last.start
                if length == 1 && byte == UInt8(ascii: ")") { return lastCloseEndedControlHead }
                if length == 1 && byte == UInt8(ascii: "]") { return false }
                if length == 2 && (text(last) == "++" || text(last) == "--") { return false }
                return true
            }
        }

        func push(_ kind: Kind, _ start: Int, _ end: Int) {
            tokens.append(Token(kind: kind, start: start, end: end, depth: stack.count, afterLineBreak: sawLineBreak))
            sawLineBreak = false
        }

        /// Scans template characters from `index` (just after "`" or "}") to the closing "`" or
        /// a "${"; returns true when it stopped at "${".
        func scanTemplateChunk() throws(LexError) -> Bool {
            while index < count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "`") {
                    index += 1
                    return false
                }
                if byte == UInt8(ascii: "$"), index + 1 < count, bytes[index + 1] == UInt8(ascii: "{") {
                    index += 2
                    return true
                }
                index += 1
            }
            throw LexError(offset: count, message: "unterminated template literal")
        }

        while index < count {
            let byte = bytes[index]
            switch byte {
            case 0x0A, 0x0D:
                sawLineBreak = true
                index += 1
            case 0x20, 0x09, 0x0B, 0x0C:
                index += 1
            case UInt8(ascii: "/"):
                let next = index + 1 < count ? bytes[index + 1] : 0
                if next == UInt8(ascii: "/") {
                    while index < count && bytes[index] != 0x0A && bytes[index] != 0x0D { index += 1 }
                } else if next == UInt8(ascii: "*") {
                    let start = index
                    index += 2
                    var closed = false
                    while index + 1 < count {
                        if bytes[index] == 0x0A { sawLineBreak = true }
                        if bytes[index] == UInt8(ascii: "*") && bytes[index + 1] == UInt8(ascii: "/") {
                            index += 2
                            closed = true
                            break
                        }
                        index += 1
                    }
                    if !closed { throw LexError(offset: start, message: "unterminated comment") }
                } else if regexAllowed() {
                    let start = index
                    index += 1
                    var inClass = false
                    while true {
                        guard index < count, bytes[index] != 0x0A else {
                            throw LexError(offset: start, message: "unterminated regular expression")
                        }
                        let c = bytes[index]
                        if c == UInt8(ascii: "\\") { index += 2; continue }
                        if c == UInt8(ascii: "[") { inClass = true }
                        else if c == UInt8(ascii: "]") { inClass = false }
                        else if c == UInt8(ascii: "/") && !inClass { index += 1; break }
                        index += 1
                    }
                    while index < count && Self.isIdentifierByte(bytes[index]) { index += 1 }
                    push(.regex, start, index)
                } else {
                    let start = index
                    index += 1
                    if index < count && bytes[index] == UInt8(ascii: "=") { index += 1 }
                    push(.punctuator, start, index)
                }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                let start = index
                index += 1
                while true {
                    guard index < count else { throw LexError(offset: start, message: "unterminated string") }
                    let c = bytes[index]
                    if c == UInt8(ascii: "\\") {
                        // A line continuation may be CR LF: skip both.
                        let crlf = index + 2 < count && bytes[index + 1] == 0x0D && bytes[index + 2] == 0x0A
                        index += crlf ? 3 : 2
                        continue
                    }
                    index += 1
                    if c == byte { break }
                    if c == 0x0A { throw LexError(offset: start, message: "unterminated string") }
                }
                push(.string, start, index)
            case UInt8(ascii: "`"):
                let start = index
                index += 1
                if try scanTemplateChunk() {
                    push(.template, start, index)
                    stack.append(UInt8(ascii: "$"))
                } else {
                    push(.template, start, index)
                }
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                if byte == UInt8(ascii: "(") {
                    let opensControlHead = tokens.last.map { $0.kind == .identifier && Self.controlKeywords.contains(text($0)) } ?? false
                    parenthesesOpenControlHead.append(opensControlHead)
                }
                push(.punctuator, index, index + 1)
                stack.append(byte)
                index += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                if byte == UInt8(ascii: "}"), stack.last == UInt8(ascii: "$") {
                    // End of a template substitution: continue the template.
                    stack.removeLast()
                    let start = index
                    index += 1
                    if try scanTemplateChunk() {
                        push(.template, start, index)
                        stack.append(UInt8(ascii: "$"))
                    } else {
                        push(.template, start, index)
                    }
                } else {
                    if !stack.isEmpty { stack.removeLast() }
                    if byte == UInt8(ascii: ")") { lastCloseEndedControlHead = parenthesesOpenControlHead.popLast() ?? false }
                    push(.punctuator, index, index + 1)
                    index += 1
                }
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index < count && (Self.isIdentifierByte(bytes[index]) || bytes[index] == UInt8(ascii: ".")) {
                    index += 1
                }
                push(.number, start, index)
            case UInt8(ascii: "."):
                if index + 1 < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]) {
                    let start = index
                    index += 1
                    while index < count && Self.isIdentifierByte(bytes[index]) { index += 1 }
                    push(.number, start, index)
                } else if index + 2 < count, bytes[index + 1] == UInt8(ascii: "."), bytes[index + 2] == UInt8(ascii: ".") {
                    push(.punctuator, index, index + 3)
                    index += 3
                } else {
                    push(.punctuator, index, index + 1)
                    index += 1
                }
            default:
                if Self.isIdentifierByte(byte) || byte == UInt8(ascii: "#") {
                    let start = index
                    index += 1
                    while index < count && Self.isIdentifierByte(bytes[index]) { index += 1 }
                    push(.identifier, start, index)
                } else {
                    // Operators: group the common two-character ones so `++`/`--` are visible.
                    let start = index
                    index += 1
                    if index < count {
                        let next = bytes[index]
                        if (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && next == byte {
                            index += 1
                        } else if byte == UInt8(ascii: "=") && next == UInt8(ascii: ">") {
                            index += 1
                        }
                    }
                    push(.punctuator, start, index)
                }
            }
        }
        if stack.last == UInt8(ascii: "$") {
            throw LexError(offset: count, message: "unterminated template literal")
        }
        return tokens
    }

    static func isIdentifierByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
             UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "$"), 0x80...0xFF:
            return true
        case UInt8(ascii: "\\"):
            return true  // \uXXXX escapes in identifiers
        default:
            return false
        }
    }

    /// Keywords whose parenthesised head may be followed by a regular expression.
    static let controlKeywords: Set<String> = ["if", "while", "for", "with"]

    /// Keywords after which a `/` starts a regular expression rather than a division.
    static let keywordsBeforeExpression: Set<String> = [
        "return", "typeof", "instanceof", "in", "of", "new", "delete", "void", "throw", "case",
        "do", "else", "yield", "await", "extends",
    ]
}
