#if canImport(Glibc)
import Glibc
#endif
import SluiceCore

/// Small file helpers over the C library (no Foundation in the runtime's hot paths).
package enum FileSystem {
    /// An error naming the path and the system's reason.
    package struct Error: Swift.Error, CustomStringConvertible {
        var path: String
        var reason: String
        package init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        package var description: String { "\(path): \(reason)" }
    }

    /// The whole file as bytes.
    package static func readBytes(_ path: String) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Error(path: path, reason: SystemError("open").reason) }
        defer { close(descriptor) }
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count: Int
            do throws(SystemError) {
                count = try SystemError.retryingOnInterrupt("read") { chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) } }
            } catch {
                throw Error(path: path, reason: error.reason)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }

    /// The file as UTF-8 text, or nil when it does not exist (or is a directory).
    package static func readTextIfExists(_ path: String) throws -> String? {
        guard kind(of: path) == .file else { return nil }
        return String(decoding: try readBytes(path), as: UTF8.self)
    }

    package enum Kind { case file, directory, missing }

    package static func kind(of path: String) -> Kind {
        var status = stat()
        guard stat(path, &status) == 0 else { return .missing }
        return (status.st_mode & S_IFMT) == S_IFDIR ? .directory : .file
    }

    /// Names of the entries of a directory, sorted, without `.` and `..`.
    package static func list(_ path: String) throws -> [String] {
        guard let directory = opendir(path) else { throw Error(path: path, reason: SystemError("opendir").reason) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// Whether `directory` holds a regular file with any of `names`.
    package static func hasAnyFile(_ directory: String, of names: [String]) -> Bool {
        names.contains { kind(of: directory + "/" + $0) == .file }
    }
}
