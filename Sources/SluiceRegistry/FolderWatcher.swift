#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore

/// Watches files and folders with inotify and hands out what changed, one burst at a time: the
/// watcher behind `sluice test --watch` and `sluice run --watch`.
///
/// - A folder is watched with everything below it, subfolders created later included (hidden
///   folders such as `.git` and `.sluice` are skipped). When a new folder appears, the files
///   already in it count as changed: `mkdir -p a/b && cp … a/b/` races the watch being added.
/// - A file is watched through its folder, by name, so an editor that saves by writing a new
///   file and renaming it over the old one (vim, JetBrains IDEs) is seen like one that writes in
///   place. A watched path that does not exist yet is seen when it is created (a folder is then
///   watched with everything below it).
/// - ``next(quietPeriod:)`` waits for a change, then collects more until `quietPeriod` passes
///   without one — an editor's save, a formatter or `git checkout` touching many files is one
///   burst — but never longer than ``maximumBurst``.
/// - Editors' scratch files are not changes (``isScratchFile(_:)``).
/// - ``stop()``, from any thread (a signal handler's queue), makes a waiting ``next`` return nil.
///
/// Watches are per folder: the number of folders below the watched ones is bounded by
/// `/proc/sys/fs/inotify/max_user_watches`, which the error names when it is reached.
public final class FolderWatcher: @unchecked Sendable {
    // @unchecked: `stop()` only writes to `stopWriter`, fixed at init; everything else is used
    // by the one thread that calls `watch` and `next`.

    /// What changed in one burst.
    public struct Changes: Sendable, Equatable {
        /// Absolute paths of the files and folders created, written, removed, renamed or touched.
        public var paths: Set<String> = []
        /// The kernel dropped events (its queue overflowed): anything may have changed.
        public var overflowed = false

        public init(paths: Set<String> = [], overflowed: Bool = false) {
            self.paths = paths
            self.overflowed = overflowed
        }

        public var isEmpty: Bool { paths.isEmpty && !overflowed }
    }

    /// The longest a burst is collected before ``next(quietPeriod:)`` returns it (a steady
    /// stream of changes must not keep the caller waiting forever). 2 s.
    public var maximumBurst: Duration = .seconds(2)

    private let inotify: Int32
    private let stopReader: Int32
    private let stopWriter: Int32
    /// Watched folders by watch descriptor.
    private var folders: [Int32: String] = [:]
    /// Folders whose every entry counts (watched with everything below them).
    private var recursive: Set<String> = []
    /// Names that count in folders not watched recursively: the watched files, and watched
    /// folders that are (re)created.
    private var wanted: [String: Set<String>] = [:]

    private static let mask = UInt32(IN_MODIFY) | UInt32(IN_CLOSE_WRITE) | UInt32(IN_ATTRIB) | UInt32(IN_CREATE) | UInt32(IN_DELETE)
        | UInt32(IN_MOVED_FROM) | UInt32(IN_MOVED_TO) | UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF) | UInt32(IN_ONLYDIR)

    /// Starts watching `paths` (files or folders, relative to the working directory or absolute).
    public init(paths: [String]) throws {
        inotify = inotify_init1(Int32(IN_CLOEXEC) | Int32(IN_NONBLOCK))
        guard inotify >= 0 else { throw FileSystem.Error(path: "inotify", reason: SystemError("inotify_init1").reason) }
        var ends: [Int32] = [-1, -1]
        let flags = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        guard socketpair(AF_UNIX, flags, 0, &ends) == 0 else {
            let error = SystemError("socketpair")
            close(inotify)
            throw FileSystem.Error(path: "inotify", reason: error.reason)
        }
        stopReader = ends[0]
        stopWriter = ends[1]
        do {
            try watch(paths)
        } catch {
            close(inotify)
            close(stopReader)
            close(stopWriter)
            throw error
        }
    }

    deinit {
        close(inotify)
        close(stopReader)
        close(stopWriter)
    }

    /// The absolute, standardized form of `path` (the form ``Changes/paths`` uses).
    public static func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// Watches more paths (files or folders); paths already watched are left as they are.
    public func watch(_ paths: [String]) throws {
        for path in paths.map(Self.absolute) where path != "/" {
            let slash = path.lastIndex(of: "/")!
            let parent = slash == path.startIndex ? "/" : String(path[..<slash])
            let name = String(path[path.index(after: slash)...])
            if !recursive.contains(parent) {
                wanted[parent, default: []].insert(name)
                try addWatch(parent)
            }
            if FileSystem.kind(of: path) == .directory { _ = try addTree(path) }
        }
    }

    /// Waits for changes and returns them once `quietPeriod` (default 150 ms) passed without
    /// another (or ``maximumBurst`` after the first); nil once ``stop()`` was called.
    public func next(quietPeriod: Duration = .milliseconds(150)) -> Changes? {
        var changes = Changes()
        var burstStart: ContinuousClock.Instant?
        var lastChange = ContinuousClock.now
        while true {
            var timeout: Int32 = -1
            if let burstStart {
                let now = ContinuousClock.now
                let until = min(lastChange + quietPeriod, burstStart + maximumBurst)
                if now >= until { return changes }
                timeout = Int32(((until - now).millisecondsValue).rounded(.up))
            }
            var descriptors = [pollfd(fd: inotify, events: Int16(POLLIN), revents: 0), pollfd(fd: stopReader, events: Int16(POLLIN), revents: 0)]
            let ready = poll(&descriptors, 2, timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                return changes.isEmpty ? nil : changes
            }
            if descriptors[1].revents != 0 { return nil }
            guard descriptors[0].revents != 0 else { continue }
            let before = changes
            readEvents(into: &changes)
            if changes != before {
                if burstStart == nil { burstStart = ContinuousClock.now }
                lastChange = ContinuousClock.now
            }
        }
    }

    /// Makes a waiting (or the next) ``next(quietPeriod:)`` return nil. Safe from any thread.
    public func stop() {
        var byte: UInt8 = 1
        _ = write(stopWriter, &byte, 1)
    }

    /// Whether a file name is an editor's scratch file rather than a change: hidden names
    /// (`.transform.js.swp`, `.#transform.js`, `.goutputstream-…`), backups ending in `~`, swap
    /// and temporary files (`.swp`, `.swx`, `.tmp`), and vim's `4913` probe.
    public static func isScratchFile(_ name: String) -> Bool {
        name.hasPrefix(".") || name.hasSuffix("~") || name.hasSuffix(".swp") || name.hasSuffix(".swx") || name.hasSuffix(".tmp")
            || name == "4913"
    }

    // MARK: - inotify

    private func addWatch(_ folder: String) throws {
        let descriptor = inotify_add_watch(inotify, folder, Self.mask)
        if descriptor >= 0 {
            folders[descriptor] = folder
            return
        }
        let error = SystemError("inotify_add_watch")
        switch error.code {
        case ENOENT, ENOTDIR, EACCES:
            return  // gone already, or not a folder we may read: nothing to watch
        case ENOSPC:
            throw FileSystem.Error(path: folder, reason: "cannot watch: the limit of inotify watches is reached "
                                   + "(/proc/sys/fs/inotify/max_user_watches; raise it or watch fewer folders)")
        default:
            throw FileSystem.Error(path: folder, reason: "cannot watch: \(error.reason)")
        }
    }

    /// Watches `folder` and every folder below it (hidden ones skipped); returns the files found.
    private func addTree(_ folder: String) throws -> [String] {
        try addWatch(folder)
        recursive.insert(folder)
        var files: [String] = []
        for name in (try? FileSystem.list(folder)) ?? [] where !name.hasPrefix(".") {
            let path = folder + "/" + name
            switch FileSystem.kind(of: path) {
            case .directory: files += try addTree(path)
            case .file: if !Self.isScratchFile(name) { files.append(path) }
            case .missing: break
            }
        }
        return files
    }

    /// Reads every queued event into `changes`.
    private func readEvents(into changes: inout Changes) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(inotify, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else { return }  // EAGAIN: the queue is empty
            var offset = 0
            while offset + 16 <= count {
                let (descriptor, flags, nameLength) = buffer.withUnsafeBytes { bytes in
                    (bytes.loadUnaligned(fromByteOffset: offset, as: Int32.self),
                     bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self),
                     Int(bytes.loadUnaligned(fromByteOffset: offset + 12, as: UInt32.self)))
                }
                let nameBytes = buffer[(offset + 16)..<min(offset + 16 + nameLength, count)].prefix { $0 != 0 }
                offset += 16 + nameLength
                handle(descriptor: descriptor, flags: flags, name: String(decoding: nameBytes, as: UTF8.self), into: &changes)
            }
        }
    }

    private func handle(descriptor: Int32, flags: UInt32, name: String, into changes: inout Changes) {
        if flags & UInt32(IN_Q_OVERFLOW) != 0 {
            changes.overflowed = true
            return
        }
        guard let folder = folders[descriptor] else { return }
        if flags & UInt32(IN_IGNORED) != 0 {
            // The folder was removed (or unmounted): its watch is gone.
            folders[descriptor] = nil
            if !folders.values.contains(folder) { recursive.remove(folder) }
            return
        }
        if name.isEmpty {
            // The watched folder itself was removed or moved; its parent's event says so too
            // when the parent is watched, but a top folder's parent may not be.
            if flags & (UInt32(IN_DELETE_SELF) | UInt32(IN_MOVE_SELF)) != 0, recursive.contains(folder) { changes.paths.insert(folder) }
            return
        }
        let counts = recursive.contains(folder) || wanted[folder]?.contains(name) == true
        let isFolder = flags & UInt32(IN_ISDIR) != 0
        guard counts, isFolder ? !name.hasPrefix(".") : !Self.isScratchFile(name) else { return }
        let path = folder == "/" ? "/" + name : folder + "/" + name
        changes.paths.insert(path)
        if isFolder, flags & UInt32(IN_MOVED_FROM) != 0 {
            // Moved away (out of sight, or to a new name reported by its own IN_MOVED_TO): the
            // watches below it would report under the old path.
            for (watch, watched) in folders where watched == path || watched.hasPrefix(path + "/") { _ = inotify_rm_watch(inotify, watch) }
        }
        if isFolder, flags & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
            // A new folder (or one moved in): watch it, and what is in it already counts.
            if let files = try? addTree(path) { changes.paths.formUnion(files) }
        }
    }
}
