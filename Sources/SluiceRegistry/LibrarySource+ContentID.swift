import SluiceCore

extension LibrarySource {
    /// The id of this exact library code: `lv` and 24 hex digits of a SHA-256 over its import
    /// name, language, file name and code (the id a library version published over the API gets;
    /// the same code always has the same id).
    public var contentID: String {
        var hasher = SHA256()
        for field in ["sluice-library/1", importName, language.rawValue, fileName, code] { hasher.field(field) }
        return "lv" + hasher.hexDigest().prefix(24)
    }
}
