/// The language a transformation or library is written in: the names manifests, APIs, stores and
/// the worker protocol parse before any engine is chosen, and the file extension that names files.
/// Everything else about a language lives with its engine (``LanguageSupport``,
/// ``EngineRegistration``); a new language adds its case here.
public enum Language: String, Sendable, Hashable, Codable, CaseIterable {
    case javascript
    case python

    /// The usual file extension, without the dot.
    public var fileExtension: String {
        switch self {
        case .javascript: "js"
        case .python: "py"
        }
    }

    /// Parses the names RudderStack and Sluice use (`javascript`, `js`, `python`, `pythonfaas`, `py`).
    public init?(name: String) {
        switch name.lowercased() {
        case "javascript", "js": self = .javascript
        case "python", "pythonfaas", "py", "python3": self = .python
        default: return nil
        }
    }

    /// The language of a file name by its extension (`.js`/`.mjs` or `.py`).
    public init?(fileName: String) {
        if fileName.hasSuffix(".js") || fileName.hasSuffix(".mjs") {
            self = .javascript
        } else if fileName.hasSuffix(".py") {
            self = .python
        } else {
            return nil
        }
    }
}
