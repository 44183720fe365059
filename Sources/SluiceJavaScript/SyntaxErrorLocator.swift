/// Finds the column of a syntax error. JavaScriptCore reports the line of a syntax error but
/// not its column; its message names the offending token (`Unexpected token ';'`,
/// `Unexpected identifier 'foo'`), so the column is that token's first occurrence on the line
/// (found with ``ModuleLexer``, so text in strings and comments does not count).
enum SyntaxErrorLocator {
    static func column(message: String, line: Int, source: String) -> Int? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        if message.hasPrefix("Unexpected end of script") || message.hasPrefix("Unexpected EOF") {
            guard let last = lines.last else { return 1 }
            return last.utf16.count + 1
        }
        guard line >= 1, line <= lines.count, let needle = quotedToken(in: message) else { return nil }
        let lineText = String(lines[line - 1])
        let lexer = ModuleLexer(lineText)
        if let tokens = try? lexer.tokenize(), let token = tokens.first(where: { lexer.text($0) == needle }) {
            let prefix = String(decoding: lexer.bytes[0..<token.start], as: UTF8.self)
            return prefix.utf16.count + 1
        }
        guard let range = lineText.range(of: needle) else { return nil }
        return lineText[..<range.lowerBound].utf16.count + 1
    }

    /// The text between the first pair of quotes (`'…'` or `"…"`) in the message.
    private static func quotedToken(in message: String) -> String? {
        for quote: Character in ["'", "\""] {
            guard let open = message.firstIndex(of: quote) else { continue }
            let rest = message[message.index(after: open)...]
            guard let close = rest.lastIndex(of: quote), close > rest.startIndex else { continue }
            let token = String(rest[..<close])
            return token.isEmpty ? nil : token
        }
        return nil
    }
}

extension String {
    func range(of needle: String) -> Range<String.Index>? {
        guard !needle.isEmpty, needle.count <= count else { return nil }
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(needle) { return start..<index(start, offsetBy: needle.count) }
            start = index(after: start)
        }
        return nil
    }
}
