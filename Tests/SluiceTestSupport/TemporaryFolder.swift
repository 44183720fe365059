import Foundation

/// Temporary folders of files for tests (the caller removes them).
public enum TemporaryFolder {
    /// A fresh folder under the temporary directory with `files` (relative path → contents).
    public static func create(_ files: [String: String], prefix: String = "sluice-test") throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)").path
        try write(files, under: root)
        return root
    }

    /// Writes `files` (relative path → contents) under `root`, creating folders as needed.
    public static func write(_ files: [String: String], under root: String) throws {
        for (path, contents) in files {
            let url = URL(fileURLWithPath: root + "/" + path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(contents.utf8).write(to: url)
        }
    }
}
