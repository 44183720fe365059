/// Rewrites an ES module's top-level `import` and `export` declarations so the module can run as
/// a plain function (JavaScriptCore's C API has no module loader).
///
/// The rewrite keeps every line where it was: import declarations become blanks, `export`
/// keywords become spaces, and `export default` becomes an assignment of the same width. So
/// positions in stack traces stay those of the user's file. What was removed is returned as data
/// (``imports``, ``exports``) for ``ModuleLinker`` to turn into bindings.
struct ModuleRewriter {
    /// One imported binding: `local` is bound to `name` of the module (`"*"` for the namespace).
    struct ImportBinding: Equatable {
        var name: String
        var local: String
    }

    struct ImportDeclaration: Equatable {
        var specifier: String
        var bindings: [ImportBinding]
        /// 1-based line of the `import` keyword.
        var line: Int
    }

    /// What an exported name refers to.
    enum ExportTarget: Equatable {
        /// A binding declared in this module.
        case local(String)
        /// A name exported by another module (`export { a as b } from "m"`).
        case reexport(specifier: String, name: String)
        /// Another module's namespace (`export * as ns from "m"`).
        case namespace(specifier: String)
    }

    /// The name the rewrite gives the value of `export default …`: `$__def=` is exactly as long
    /// as the `default` keyword it replaces, so every position stays put whatever the spacing.
    /// (`$__def` and names starting with `__sluice_` are reserved.)
    static let defaultBinding = "$__def"

    /// The rewritten module body, line for line the same as the source.
    var body: String = ""
    var imports: [ImportDeclaration] = []
    /// Exported name → target, in declaration order.
    var exports: [(name: String, target: ExportTarget)] = []
    /// Modules whose exports are all re-exported (`export * from "m"`).
    var starExports: [String] = []
    /// True when `export default <expression>` needs ``defaultBinding`` declared.
    var declaresDefaultBinding = false
    /// Every module named by an import or re-export, in source order, without duplicates.
    var requestedModules: [String] {
        var seen: Set<String> = []
        var result: [String] = []
        for specifier in imports.map(\.specifier) + starExports + exports.compactMap({ entry -> String? in
            switch entry.target {
            case .local: nil
            case .reexport(let specifier, _), .namespace(let specifier): specifier
            }
        }) where seen.insert(specifier).inserted {
            result.append(specifier)
        }
        return result
    }

    /// A rewrite failure, with the 1-based line and column in the source.
    struct RewriteError: Error, Equatable {
        var line: Int
        var column: Int
        var message: String
    }

    private var lexer: ModuleLexer
    private var tokens: [ModuleLexer.Token] = []
    private var output: [UInt8]
    private var position = 0

    init(source: String) throws(RewriteError) {
        lexer = ModuleLexer(source)
        output = lexer.bytes
        do {
            tokens = try lexer.tokenize()
        } catch {
            let (line, column) = Self.lineAndColumn(of: error.offset, in: lexer.bytes)
            throw RewriteError(line: line, column: column, message: error.message)
        }
        try rewrite()
        body = String(decoding: output, as: UTF8.self)
    }

    // MARK: - Walking the tokens

    private mutating func rewrite() throws(RewriteError) {
        while position < tokens.count {
            let token = tokens[position]
            if token.kind == .identifier {
                let word = lexer.text(token)
                let previousIsDot = position > 0 && isPunctuator(tokens[position - 1], ".")
                    && !isPunctuator(tokens[position - 1], "...")
                if word == "import" && !previousIsDot {
                    if let next = peek(1), isPunctuator(next, "(") {
                        throw error(at: token, "dynamic import() is not supported: import libraries with a static `import … from \"name\"` declaration")
                    }
                    if let next = peek(1), isPunctuator(next, ".") {
                        throw error(at: token, "import.meta is not supported")
                    }
                    if let next = peek(1), isPunctuator(next, ":") {
                        position += 1
                        continue
                    }
                    if token.depth == 0 {
                        try parseImport()
                        continue
                    }
                } else if word == "export" && !previousIsDot && token.depth == 0 {
                    try parseExport()
                    continue
                }
            }
            position += 1
        }
    }

    private func peek(_ offset: Int) -> ModuleLexer.Token? {
        let index = position + offset
        return index < tokens.count ? tokens[index] : nil
    }

    private func isPunctuator(_ token: ModuleLexer.Token, _ text: String) -> Bool {
        token.kind == .punctuator && lexer.text(token) == text
    }

    private func isWord(_ token: ModuleLexer.Token?, _ text: String) -> Bool {
        guard let token, token.kind == .identifier else { return false }
        return lexer.text(token) == text
    }

    private func error(at token: ModuleLexer.Token, _ message: String) -> RewriteError {
        let (line, column) = Self.lineAndColumn(of: token.start, in: lexer.bytes)
        return RewriteError(line: line, column: column, message: message)
    }

    private func errorAtEnd(_ message: String) -> RewriteError {
        let (line, column) = Self.lineAndColumn(of: lexer.bytes.count, in: lexer.bytes)
        return RewriteError(line: line, column: column, message: message)
    }

    /// Consumes the current token, requiring it to be `text`.
    private mutating func expect(_ text: String, _ what: String) throws(RewriteError) -> ModuleLexer.Token {
        guard let token = peek(0) else { throw errorAtEnd("expected \(what)") }
        guard lexer.text(token) == text else { throw error(at: token, "expected \(what)") }
        position += 1
        return token
    }

    private mutating func identifier(_ what: String) throws(RewriteError) -> String {
        guard let token = peek(0) else { throw errorAtEnd("expected \(what)") }
        guard token.kind == .identifier else { throw error(at: token, "expected \(what)") }
        position += 1
        return lexer.text(token)
    }

    /// An identifier or a string literal (ES2022 arbitrary module namespace names).
    private mutating func moduleExportName(_ what: String) throws(RewriteError) -> String {
        guard let token = peek(0) else { throw errorAtEnd("expected \(what)") }
        if token.kind == .string {
            position += 1
            return Self.unquote(lexer.text(token))
        }
        return try identifier(what)
    }

    private mutating func moduleSpecifier() throws(RewriteError) -> String {
        guard let token = peek(0) else { throw errorAtEnd("expected a module name string") }
        guard token.kind == .string else { throw error(at: token, "expected a module name string") }
        position += 1
        return Self.unquote(lexer.text(token))
    }

    /// Consumes an optional `;` and import attributes; returns the end offset of the declaration.
    private mutating func endOfDeclaration() throws(RewriteError) -> Int {
        if let token = peek(0), isWord(token, "with") || isWord(token, "assert"), !token.afterLineBreak {
            throw error(at: token, "import attributes are not supported")
        }
        if let token = peek(0), isPunctuator(token, ";") {
            position += 1
            return token.end
        }
        return tokens[position - 1].end
    }

    // MARK: - import

    private mutating func parseImport() throws(RewriteError) {
        let start = tokens[position]
        let line = Self.lineAndColumn(of: start.start, in: lexer.bytes).line
        position += 1
        var bindings: [ImportBinding] = []
        guard let first = peek(0) else { throw errorAtEnd("expected an import clause") }
        if first.kind == .string {
            let specifier = try moduleSpecifier()
            let end = try endOfDeclaration()
            blank(from: start.start, to: end)
            imports.append(ImportDeclaration(specifier: specifier, bindings: [], line: line))
            return
        }
        if first.kind == .identifier && !isWord(first, "from") || (isWord(first, "from") && isWord(peek(1), "from")) {
            // import x from "m" / import x, {…} from "m"
            let local = try identifier("a binding name")
            bindings.append(ImportBinding(name: "default", local: local))
            if let comma = peek(0), isPunctuator(comma, ",") {
                position += 1
            } else {
                _ = try expect("from", "`from`")
                let specifier = try moduleSpecifier()
                let end = try endOfDeclaration()
                blank(from: start.start, to: end)
                imports.append(ImportDeclaration(specifier: specifier, bindings: bindings, line: line))
                return
            }
        }
        guard let clause = peek(0) else { throw errorAtEnd("expected an import clause") }
        if isPunctuator(clause, "*") {
            position += 1
            _ = try expect("as", "`as` after `import *`")
            let local = try identifier("a namespace name")
            bindings.append(ImportBinding(name: "*", local: local))
        } else if isPunctuator(clause, "{") {
            position += 1
            while true {
                guard let token = peek(0) else { throw errorAtEnd("unterminated import list") }
                if isPunctuator(token, "}") { position += 1; break }
                let name = try moduleExportName("an imported name")
                var local = name
                if isWord(peek(0), "as") {
                    position += 1
                    local = try identifier("a local name after `as`")
                } else if peek(-1)?.kind == .string {
                    throw error(at: tokens[position - 1], "a string import name needs `as <name>`")
                }
                bindings.append(ImportBinding(name: name, local: local))
                if let comma = peek(0), isPunctuator(comma, ",") { position += 1 }
            }
        } else {
            throw error(at: clause, "expected `{`, `*` or a name after `import`")
        }
        _ = try expect("from", "`from`")
        let specifier = try moduleSpecifier()
        let end = try endOfDeclaration()
        blank(from: start.start, to: end)
        imports.append(ImportDeclaration(specifier: specifier, bindings: bindings, line: line))
    }

    // MARK: - export

    private mutating func parseExport() throws(RewriteError) {
        let exportToken = tokens[position]
        position += 1
        guard let next = peek(0) else { throw errorAtEnd("expected a declaration after `export`") }

        if isWord(next, "default") {
            position += 1
            // export default function name() / class Name / async function name()
            var cursor = 0
            if isWord(peek(0), "async"), isWord(peek(1), "function") { cursor = 1 }
            if isWord(peek(cursor), "function") || isWord(peek(cursor), "class") {
                var nameIndex = cursor + 1
                if let star = peek(nameIndex), isPunctuator(star, "*") { nameIndex += 1 }
                if let nameToken = peek(nameIndex), nameToken.kind == .identifier, !isWord(nameToken, "extends") {
                    blank(from: exportToken.start, to: next.end)
                    try addExport("default", .local(lexer.text(nameToken)), at: exportToken)
                    return
                }
                // Anonymous: make it a declaration named $__def (as an expression statement, a
                // following line that starts with `(` or `[` would continue it). This needs
                // `default` and the keyword on one line, which leaves room for the name.
                let keywordEnd = tokens[position + nameIndex - 1].end
                if !lexer.bytes[next.start..<keywordEnd].contains(0x0A) {
                    let keywords = (cursor == 1 ? "async " : "") + (isWord(peek(cursor), "class") ? "class" : "function")
                        + (nameIndex > cursor + 1 ? "*" : "")
                    blank(from: exportToken.start, to: exportToken.end)
                    replace(from: next.start, to: keywordEnd, with: "\(keywords) \(Self.defaultBinding)")
                    try addExport("default", .local(Self.defaultBinding), at: exportToken)
                    return
                }
            }
            blank(from: exportToken.start, to: exportToken.end)
            replace(from: next.start, to: next.end, with: "\(Self.defaultBinding)=")
            declaresDefaultBinding = true
            try addExport("default", .local(Self.defaultBinding), at: exportToken)
            return
        }

        if isPunctuator(next, "*") {
            position += 1
            if isWord(peek(0), "as") {
                position += 1
                let name = try moduleExportName("a name after `export * as`")
                _ = try expect("from", "`from`")
                let specifier = try moduleSpecifier()
                let end = try endOfDeclaration()
                blank(from: exportToken.start, to: end)
                try addExport(name, .namespace(specifier: specifier), at: exportToken)
            } else {
                _ = try expect("from", "`from`")
                let specifier = try moduleSpecifier()
                let end = try endOfDeclaration()
                blank(from: exportToken.start, to: end)
                starExports.append(specifier)
            }
            return
        }

        if isPunctuator(next, "{") {
            position += 1
            var specifiers: [(local: String, exported: String, token: ModuleLexer.Token)] = []
            while true {
                guard let token = peek(0) else { throw errorAtEnd("unterminated export list") }
                if isPunctuator(token, "}") { position += 1; break }
                let local = try moduleExportName("an exported name")
                var exported = local
                if isWord(peek(0), "as") {
                    position += 1
                    exported = try moduleExportName("a name after `as`")
                }
                specifiers.append((local, exported, token))
                if let comma = peek(0), isPunctuator(comma, ",") { position += 1 }
            }
            if isWord(peek(0), "from") {
                position += 1
                let specifier = try moduleSpecifier()
                let end = try endOfDeclaration()
                blank(from: exportToken.start, to: end)
                for item in specifiers {
                    try addExport(item.exported, .reexport(specifier: specifier, name: item.local), at: item.token)
                }
            } else {
                let end = try endOfDeclaration()
                blank(from: exportToken.start, to: end)
                for item in specifiers {
                    try addExport(item.exported, .local(item.local), at: item.token)
                }
            }
            return
        }

        // export function / async function / function* / class / const / let / var
        blank(from: exportToken.start, to: exportToken.end)
        var cursor = 0
        if isWord(peek(0), "async") { cursor = 1 }
        if isWord(peek(cursor), "function") || isWord(peek(cursor), "class") {
            var nameIndex = cursor + 1
            if let star = peek(nameIndex), isPunctuator(star, "*") { nameIndex += 1 }
            guard let nameToken = peek(nameIndex), nameToken.kind == .identifier else {
                throw error(at: next, "an exported function or class needs a name")
            }
            try addExport(lexer.text(nameToken), .local(lexer.text(nameToken)), at: nameToken)
            position += nameIndex + 1
            return
        }
        if isWord(next, "const") || isWord(next, "let") || isWord(next, "var") {
            position += 1
            try parseDeclarators()
            return
        }
        throw error(at: next, "unexpected `\(lexer.text(next))` after `export`")
    }

    /// Reads `a = 1, { b, c: [d] } = obj, …` and exports every bound name.
    private mutating func parseDeclarators() throws(RewriteError) {
        let baseDepth = tokens[position - 1].depth
        while position < tokens.count {
            try parseBindingPattern(baseDepth: baseDepth)
            // Skip an initializer up to the next `,` at the declaration's own depth, a `;`, or a
            // line break that ends the statement.
            guard let token = peek(0) else { return }
            if isPunctuator(token, "=") {
                position += 1
                var previous = token
                while let current = peek(0) {
                    if current.depth == baseDepth {
                        if isPunctuator(current, ",") { break }
                        if isPunctuator(current, ";") { return }
                        if current.afterLineBreak && Self.endsExpression(previous, lexer) && Self.startsStatement(current, lexer) {
                            return
                        }
                    }
                    previous = current
                    position += 1
                }
            }
            guard let separator = peek(0), isPunctuator(separator, ",") else {
                if let semicolon = peek(0), isPunctuator(semicolon, ";") { position += 1 }
                return
            }
            position += 1
        }
    }

    private mutating func parseBindingPattern(baseDepth: Int) throws(RewriteError) {
        guard let token = peek(0) else { throw errorAtEnd("expected a binding name") }
        if token.kind == .identifier {
            position += 1
            try addExport(lexer.text(token), .local(lexer.text(token)), at: token)
            return
        }
        if isPunctuator(token, "[") {
            position += 1
            while let element = peek(0) {
                if isPunctuator(element, "]") { position += 1; return }
                if isPunctuator(element, ",") { position += 1; continue }
                if isPunctuator(element, "...") { position += 1 }
                try parseBindingPattern(baseDepth: element.depth)
                try skipDefaultValue()
            }
            throw errorAtEnd("unterminated array pattern")
        }
        if isPunctuator(token, "{") {
            position += 1
            while let property = peek(0) {
                if isPunctuator(property, "}") { position += 1; return }
                if isPunctuator(property, ",") { position += 1; continue }
                if isPunctuator(property, "...") {
                    position += 1
                    try parseBindingPattern(baseDepth: property.depth)
                    continue
                }
                if isPunctuator(property, "[") {
                    // computed key: skip to the matching `]`
                    let depth = property.depth
                    position += 1
                    while let inner = peek(0), !(inner.depth == depth && isPunctuator(inner, "]")) { position += 1 }
                    position += 1
                    _ = try expect(":", "`:` after a computed key")
                    try parseBindingPattern(baseDepth: property.depth)
                    try skipDefaultValue()
                    continue
                }
                position += 1  // the key
                if let colon = peek(0), isPunctuator(colon, ":") {
                    position += 1
                    try parseBindingPattern(baseDepth: property.depth)
                } else {
                    try addExport(lexer.text(property), .local(lexer.text(property)), at: property)
                }
                try skipDefaultValue()
            }
            throw errorAtEnd("unterminated object pattern")
        }
        throw error(at: token, "expected a binding name")
    }

    /// Skips `= expression` inside a pattern, up to the next `,` or closing bracket at its depth.
    private mutating func skipDefaultValue() throws(RewriteError) {
        guard let token = peek(0), isPunctuator(token, "=") else { return }
        let depth = token.depth
        position += 1
        while let current = peek(0) {
            if current.depth == depth && (isPunctuator(current, ",") || isPunctuator(current, "}") || isPunctuator(current, "]")) {
                return
            }
            position += 1
        }
    }

    private mutating func addExport(_ name: String, _ target: ExportTarget, at token: ModuleLexer.Token) throws(RewriteError) {
        if exports.contains(where: { $0.name == name }) {
            throw error(at: token, "duplicate export of '\(name)'")
        }
        exports.append((name, target))
    }

    // MARK: - Editing

    /// Replaces the bytes in `start..<end` with spaces, keeping line breaks.
    private mutating func blank(from start: Int, to end: Int) {
        for index in start..<end where output[index] != 0x0A && output[index] != 0x0D {
            output[index] = 0x20
        }
    }

    /// Writes `text` (ASCII) into `start..<end` without changing its length: the text's
    /// characters take the range's positions in order, skipping line breaks (which stay where
    /// they are), and the positions left over become spaces. The text must not be longer than
    /// the range's non-line-break positions (callers guarantee it).
    private mutating func replace(from start: Int, to end: Int, with text: String) {
        var characters = Array(text.utf8)[...]
        for index in start..<end where output[index] != 0x0A && output[index] != 0x0D {
            output[index] = characters.popFirst() ?? 0x20
        }
        assert(characters.isEmpty, "replacement longer than the span it replaces")
    }

    // MARK: - Helpers

    static func unquote(_ literal: String) -> String {
        var inner = literal.dropFirst().dropLast()[...]
        guard inner.contains("\\") else { return String(inner) }
        var result = ""
        while let character = inner.first {
            inner = inner.dropFirst()
            if character == "\\", let escaped = inner.first {
                inner = inner.dropFirst()
                switch escaped {
                case "n": result.append("\n")
                case "t": result.append("\t")
                default: result.append(escaped)
                }
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func lineAndColumn(of offset: Int, in bytes: [UInt8]) -> (line: Int, column: Int) {
        var line = 1
        var lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        // Columns count UTF-16 code units, as JavaScriptCore does.
        let prefix = String(decoding: bytes[lineStart..<min(offset, bytes.count)], as: UTF8.self)
        return (line, prefix.utf16.count + 1)
    }

    private static func endsExpression(_ token: ModuleLexer.Token, _ lexer: ModuleLexer) -> Bool {
        switch token.kind {
        case .identifier, .number, .string, .template, .regex: return true
        case .punctuator:
            let text = lexer.text(token)
            return text == ")" || text == "]" || text == "}" || text == "++" || text == "--"
        }
    }

    private static func startsStatement(_ token: ModuleLexer.Token, _ lexer: ModuleLexer) -> Bool {
        switch token.kind {
        case .identifier:
            let text = lexer.text(token)
            return !["in", "of", "instanceof"].contains(text)
        case .string, .number, .template, .regex: return true
        case .punctuator:
            let text = lexer.text(token)
            return text == "{" || text == "++" || text == "--" || text == "!" || text == "~" || text == ";"
        }
    }
}
