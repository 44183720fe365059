import SluiceCore

/// Finds a Python module's import statements without an interpreter: a tokenizer just precise
/// enough to know strings (every prefix, single and triple quotes), comments, line
/// continuations and brackets, so text that only looks like an import is never one. It reads the
/// statements wherever they are (a function body, an `if`, after `;` or a compound statement's
/// `:`), as the engine's linking does.
///
/// `import a.b as c, d` is two statements, `a.b` and `d`; `from x import (y, z)` is one, `x`;
/// a relative import keeps its dots (`from .. import m` is `..`).
public enum PythonImportScanner {
    /// Every import statement of `code`, in source order.
    public static func imports(in code: String) -> [ImportStatement] {
        let tokens = tokenize(Array(code.utf8))
        var statements: [ImportStatement] = []
        var index = 0
        var atStatementStart = true
        while index < tokens.count {
            let token = tokens[index]
            if atStatementStart, token.kind == .name, token.text == "import" {
                index = parseImport(tokens, after: index, into: &statements)
                atStatementStart = false
                continue
            }
            if atStatementStart, token.kind == .name, token.text == "from" {
                index = parseFrom(tokens, after: index, into: &statements)
                atStatementStart = false
                continue
            }
            switch token.kind {
            case .newline: atStatementStart = true
            case .operator where token.text == ";": atStatementStart = true
            case .operator where token.text == ":" && token.depth == 0: atStatementStart = true
            default: atStatementStart = false
            }
            index += 1
        }
        return statements
    }

    // MARK: - Statements

    /// `import dotted [as name] (, dotted [as name])*`; returns the index after it.
    private static func parseImport(_ tokens: [Token], after start: Int, into statements: inout [ImportStatement]) -> Int {
        var index = start + 1
        while true {
            guard let (module, next) = dottedName(tokens, at: index) else { return index }
            statements.append(ImportStatement(module: module))
            index = next
            if index + 1 < tokens.count, tokens[index].isName("as"), tokens[index + 1].kind == .name { index += 2 }
            guard index < tokens.count, tokens[index].isOperator(",") else { return index }
            index += 1
        }
    }

    /// `from (.)* [dotted] import …`; returns the index after the module (the imported names are
    /// ordinary tokens to skip).
    private static func parseFrom(_ tokens: [Token], after start: Int, into statements: inout [ImportStatement]) -> Int {
        var index = start + 1
        var dots = ""
        while index < tokens.count, tokens[index].isOperator(".") {
            dots += "."
            index += 1
        }
        var module = dots
        if let (name, next) = dottedName(tokens, at: index) {
            module += name
            index = next
        }
        guard !module.isEmpty, index < tokens.count, tokens[index].isName("import") else { return index }
        statements.append(ImportStatement(module: module))
        return index + 1
    }

    /// `name(.name)*` at `index`: the name and the index after it.
    private static func dottedName(_ tokens: [Token], at start: Int) -> (String, Int)? {
        guard start < tokens.count, tokens[start].kind == .name, !keywords.contains(tokens[start].text) else { return nil }
        var name = tokens[start].text
        var index = start + 1
        while index + 1 < tokens.count, tokens[index].isOperator("."), tokens[index + 1].kind == .name {
            name += "." + tokens[index + 1].text
            index += 2
        }
        return (name, index)
    }

    /// Words that end a module name rather than continue a statement (`from . import x`).
    private static let keywords: Set<String> = ["import", "as", "from"]

    // MARK: - Tokens

    private struct Token {
        enum Kind { case name, `operator`, literal, newline }
        var kind: Kind
        var text: String
        /// Open brackets before this token.
        var depth: Int

        func isName(_ word: String) -> Bool { kind == .name && text == word }
        func isOperator(_ symbol: String) -> Bool { kind == .operator && text == symbol }
    }

    /// Names, one-character operators, literals (strings and numbers, text dropped) and logical
    /// line ends; comments, continuations and line breaks inside brackets are skipped.
    private static func tokenize(_ bytes: [UInt8]) -> [Token] {
        var tokens: [Token] = []
        var index = 0
        var depth = 0
        let count = bytes.count
        while index < count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                if depth == 0, tokens.last.map({ $0.kind != .newline }) ?? false {
                    tokens.append(Token(kind: .newline, text: "", depth: 0))
                }
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), 0x0C:
                index += 1
            case UInt8(ascii: "#"):
                while index < count, bytes[index] != UInt8(ascii: "\n"), bytes[index] != UInt8(ascii: "\r") { index += 1 }
            case UInt8(ascii: "\\"):
                // A line continuation: the backslash and the line break vanish.
                index += 1
                if index < count, bytes[index] == UInt8(ascii: "\r") { index += 1 }
                if index < count, bytes[index] == UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: "\""), UInt8(ascii: "'"):
                index = endOfString(bytes, quoteAt: index)
                tokens.append(Token(kind: .literal, text: "", depth: depth))
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                while index < count, isNameByte(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
                tokens.append(Token(kind: .literal, text: "", depth: depth))
            case UInt8(ascii: "."):
                if index + 1 < count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index + 1]) {
                    index += 1
                    while index < count, isNameByte(bytes[index]) { index += 1 }
                    tokens.append(Token(kind: .literal, text: "", depth: depth))
                } else {
                    tokens.append(Token(kind: .operator, text: ".", depth: depth))
                    index += 1
                }
            case UInt8(ascii: "("), UInt8(ascii: "["), UInt8(ascii: "{"):
                tokens.append(Token(kind: .operator, text: String(UnicodeScalar(byte)), depth: depth))
                depth += 1
                index += 1
            case UInt8(ascii: ")"), UInt8(ascii: "]"), UInt8(ascii: "}"):
                depth = max(0, depth - 1)
                tokens.append(Token(kind: .operator, text: String(UnicodeScalar(byte)), depth: depth))
                index += 1
            default:
                if isNameByte(byte) {
                    let start = index
                    while index < count, isNameByte(bytes[index]) { index += 1 }
                    // A string prefix (r, b, f, u, rb, fr, …) directly before a quote.
                    if index < count, bytes[index] == UInt8(ascii: "\"") || bytes[index] == UInt8(ascii: "'"),
                       index - start <= 2, bytes[start..<index].allSatisfy({ stringPrefixBytes.contains($0 | 0x20) }) {
                        index = endOfString(bytes, quoteAt: index)
                        tokens.append(Token(kind: .literal, text: "", depth: depth))
                    } else {
                        tokens.append(Token(kind: .name, text: String(decoding: bytes[start..<index], as: UTF8.self), depth: depth))
                    }
                } else {
                    tokens.append(Token(kind: .operator, text: String(UnicodeScalar(byte)), depth: depth))
                    index += 1
                }
            }
        }
        return tokens
    }

    /// The index after the string literal whose opening quote is at `start`. A backslash always
    /// keeps the next byte in the string (raw strings too: `r"\""` is one string); a
    /// single-quoted string that reaches a line break ends there (the compiler reports it).
    private static func endOfString(_ bytes: [UInt8], quoteAt start: Int) -> Int {
        let quote = bytes[start]
        let count = bytes.count
        let triple = start + 2 < count && bytes[start + 1] == quote && bytes[start + 2] == quote
        var index = start + (triple ? 3 : 1)
        while index < count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            if !triple, byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { return index }
            if byte == quote {
                if !triple { return index + 1 }
                if index + 2 < count, bytes[index + 1] == quote, bytes[index + 2] == quote { return index + 3 }
            }
            index += 1
        }
        return count
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), 0x80...0xFF:
            true
        default:
            false
        }
    }

    /// String prefix letters, lower-cased: r, b, f, u.
    private static let stringPrefixBytes: Set<UInt8> = [UInt8(ascii: "r"), UInt8(ascii: "b"), UInt8(ascii: "f"), UInt8(ascii: "u")]
}
