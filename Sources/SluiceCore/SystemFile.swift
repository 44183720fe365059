#if canImport(Glibc)
import Glibc
#endif

/// Small text files of the system (`/proc`, `/sys/fs/cgroup`), read whole without Foundation, so
/// that the modules a worker process needs (this one and the engines) do not load it.
public enum SystemFile {
    /// The file's text as UTF-8 (invalid bytes replaced), or nil when it cannot be opened or read.
    /// Files of `/proc` report a size of 0, so it reads until the end rather than by size.
    public static func text(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

extension StringProtocol {
    /// The text without whitespace (spaces, tabs, line ends) at either end.
    var trimmingWhitespace: Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !$0.isWhitespace }), let last = text.lastIndex(where: { !$0.isWhitespace }) else { return "" }
        return text[first...last]
    }
}
