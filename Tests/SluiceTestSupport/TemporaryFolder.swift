import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Temporary folders of files for tests, all under one folder of this test process
/// (`$TMPDIR/sluice-tests-<pid>`), which is removed when the process exits. A run that crashed
/// leaves its folder behind; the next run removes the folders of processes that are gone.
public enum TemporaryFolder {
    /// The test process's own folder, created on first use.
    public static var scratch: String { scratchRoot }

    /// A fresh path (not created) under the test process's folder: `<prefix>-<uuid>`.
    public static func path(_ prefix: String) -> String {
        scratchRoot + "/\(prefix)-\(UUID().uuidString)"
    }

    /// A fresh folder under the test process's folder with `files` (relative path → contents).
    public static func create(_ files: [String: String], prefix: String = "sluice-test") throws -> String {
        let root = path(prefix)
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
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

    /// Removes the folders of earlier test processes that no longer run.
    static func removeAbandoned(under base: String) {
        let prefix = "sluice-tests-"
        for name in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix(prefix) {
            guard let pid = pid_t(name.dropFirst(prefix.count)), pid != getpid() else { continue }
            if kill(pid, 0) != 0 && errno == ESRCH { try? FileManager.default.removeItem(atPath: base + "/" + name) }
        }
    }
}

private let scratchRoot: String = {
    let base = FileManager.default.temporaryDirectory.path
    TemporaryFolder.removeAbandoned(under: base)
    let root = base + "/sluice-tests-\(getpid())"
    try? FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: scratchRoot) }
    return root
}()
