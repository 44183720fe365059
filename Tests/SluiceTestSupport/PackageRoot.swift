/// Folders of this package's checkout, found from this file's path.
public enum PackageRoot {
    /// The package root (where Package.swift is).
    public static let path: String = {
        var parts = #filePath.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(3)  // Tests/SluiceTestSupport/PackageRoot.swift
        return parts.joined(separator: "/")
    }()
}
