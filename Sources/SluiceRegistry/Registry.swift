import Foundation
import SluiceCore

/// The transformations a service hosts: loaded from the `transformations/` and `libraries/`
/// folders, re-read when a file under either changes, and kept as immutable versions.
///
/// - Every folder directly under the transformations root is one transformation
///   (`transformation.json` or a lone `transform.js`/`transform.py`, see `TransformationLoader`)
///   or a RudderStack CLI project (YAML files of `version: rudder/v1`, whose libraries its
///   transformations import before the shared folder's).
/// - A version is found by its content id (`sv…`) or by its transformation's name, which
///   names the live version: the one the folder holds now.
/// - Versions replaced by a change stay resolvable by id until the process ends, so a data
///   plane still sending an older id keeps getting the code it was configured with.
/// - With a ``VersionCheck`` (the service's: does it compile?), a changed transformation whose
///   new content fails the check, or whose folder no longer loads, keeps its last good version
///   live; the failure is a ``ReloadError`` until the files are fixed.
public final class Registry: @unchecked Sendable {
    // @unchecked: the mutable state is guarded by `lock`.

    /// What one load found.
    public struct Snapshot: Sendable {
        /// Live versions by transformation name.
        public var live: [String: TransformationVersion] = [:]
        /// Folders and files that failed to load, with why (never fatal: the rest is served).
        public var problems: [String] = []
        /// The same failures with the folder each is about.
        var failures: [(folder: String, message: String)] = []
    }

    /// A transformation whose files changed into something that cannot go live: it does not
    /// compile (the ``VersionCheck`` said why) or its folder no longer loads. Its last good version,
    /// if it had one, stays live until the files are fixed.
    public struct ReloadError: Sendable, Equatable {
        /// The transformation's name (for a folder that does not load and served nothing, the folder's name).
        public var transformation: String
        /// The file the error is about: the one the message names, else the transformation's entry file or folder.
        public var file: String
        public var error: String
        /// When the transformation first failed to reload (unchanged while it keeps failing).
        public var since: Date
        /// The version still served under the name, nil when there was none to keep.
        public var serving: String?
        /// The content id that failed the check (nil when the folder did not load).
        public var rejected: String?
    }

    /// Why `version` cannot go live — `(file, error)`, the file as the error names it — or nil
    /// when it can. The registry never compiles; the service passes a check that does.
    public typealias VersionCheck = @Sendable (TransformationVersion) -> String?

    /// What a reload changed.
    public struct Change: Sendable, Equatable {
        /// Transformation names with a new live version (new or changed), and those that are gone.
        public var updated: [String] = []
        public var removed: [String] = []
        public var problems: [String] = []
        /// The new live version id of each updated name.
        public var versionIDs: [String: String] = [:]
        /// Reload errors that appeared with this reload (or changed their message), and the
        /// names whose error went away.
        public var newErrors: [ReloadError] = []
        public var clearedErrors: [String] = []
        public var isEmpty: Bool { updated.isEmpty && removed.isEmpty }
    }

    public let transformationsRoot: String
    public let librariesRoot: String
    /// The languages' knowledge versions are linked with (which imports name which library files).
    public let languages: LanguageTable
    private let lock = NSLock()
    private var snapshot = Snapshot()
    private var errors: [String: ReloadError] = [:]
    private var check: VersionCheck?
    private var byID: [String: TransformationVersion] = [:]
    private var fingerprint = ""
    private var watcher: Thread?
    private var stopped = false

    /// Loads both folders. Throws only when the transformations root cannot be read at all.
    public init(transformationsRoot: String, librariesRoot: String, languages: LanguageTable) throws {
        self.transformationsRoot = transformationsRoot
        self.librariesRoot = librariesRoot
        self.languages = languages
        guard FileSystem.kind(of: transformationsRoot) == .directory else {
            throw LoadError("\(transformationsRoot): no such folder")
        }
        _ = reload()
    }

    deinit { stopWatching() }

    // MARK: - Lookup

    /// The version `idOrName` names: a content id, or a transformation name (its live version).
    public func version(_ idOrName: String) -> TransformationVersion? {
        lock.lock()
        defer { lock.unlock() }
        return byID[idOrName] ?? snapshot.live[idOrName]
    }

    /// The live versions, by name.
    public var live: [TransformationVersion] {
        lock.lock()
        defer { lock.unlock() }
        return snapshot.live.values.sorted { $0.name < $1.name }
    }

    /// Why folders were skipped at the last load.
    public var problems: [String] {
        lock.lock()
        defer { lock.unlock() }
        return snapshot.problems
    }

    /// Transformations whose files cannot go live now, by name.
    public var reloadErrors: [ReloadError] {
        lock.lock()
        defer { lock.unlock() }
        return errors.values.sorted { $0.transformation < $1.transformation }
    }

    // MARK: - Loading and watching

    /// Re-reads the folders when a file under them changed since the last load (by path, size
    /// and modification time); returns what changed.
    @discardableResult
    public func reloadIfChanged() -> Change {
        let current = Self.fingerprint(of: [transformationsRoot, librariesRoot])
        lock.lock()
        let same = current == fingerprint
        lock.unlock()
        return same ? Change() : reload(fingerprint: current)
    }

    /// Loads both folders now.
    @discardableResult
    public func reload() -> Change {
        reload(fingerprint: Self.fingerprint(of: [transformationsRoot, librariesRoot]))
    }

    private func reload(fingerprint: String) -> Change {
        var loaded = Self.load(transformationsRoot: transformationsRoot, librariesRoot: librariesRoot, languages: languages)
        let loadedIDs = loaded.live.mapValues(\.id)
        lock.lock()
        let previous = snapshot.live
        let check = self.check
        lock.unlock()
        // Checked outside the lock: a check compiles, and lookups must not wait for it.
        var found: [String: (file: String, error: String, serving: String?, rejected: String?)] = [:]
        if let check {
            for (name, version) in loaded.live where previous[name]?.id != version.id {
                guard let error = check(version) else { continue }
                found[name] = (Self.file(named: error, by: version, librariesRoot: librariesRoot), error, previous[name]?.id, version.id)
                if let good = previous[name] { loaded.live[name] = good }
            }
        }
        // A folder that served a transformation and no longer loads keeps serving it.
        for failure in loaded.failures {
            let kept = previous.values.filter { loaded.live[$0.name] == nil && ($0.origin == failure.folder || $0.origin.hasPrefix(failure.folder + "/")) }
            for good in kept {
                loaded.live[good.name] = good
                found[good.name] = (Self.file(in: failure.message, folder: failure.folder), failure.message, good.id, nil)
            }
            if kept.isEmpty {
                found[TransformationLoader.baseName(failure.folder)] = (Self.file(in: failure.message, folder: failure.folder), failure.message, nil, nil)
            }
        }
        lock.lock()
        defer { lock.unlock() }
        var change = Change(problems: loaded.problems.filter { !snapshot.problems.contains($0) })
        for (name, version) in loaded.live where snapshot.live[name]?.id != version.id {
            change.updated.append(name)
            change.versionIDs[name] = version.id
        }
        change.removed = snapshot.live.keys.filter { loaded.live[$0] == nil }
        change.updated.sort()
        change.removed.sort()
        var next: [String: ReloadError] = [:]
        let now = Date()
        for (name, failure) in found {
            let earlier = errors[name]
            next[name] = ReloadError(transformation: name, file: failure.file, error: failure.error, since: earlier?.since ?? now,
                                     serving: failure.serving, rejected: failure.rejected)
            if earlier?.error != failure.error { change.newErrors.append(next[name]!) }
        }
        // An error stays while the content it rejected is still there (a version that failed
        // with nothing to keep is live, so a later reload does not check it again).
        for (name, error) in errors where next[name] == nil {
            if let rejected = error.rejected, loadedIDs[name] == rejected { next[name] = error }
        }
        change.clearedErrors = errors.keys.filter { next[$0] == nil }.sorted()
        change.newErrors.sort { $0.transformation < $1.transformation }
        errors = next
        for version in loaded.live.values { byID[version.id] = version }
        snapshot = loaded
        self.fingerprint = fingerprint
        return change
    }

    /// Polls the folders every `interval` on a background thread and reloads on a change;
    /// `onChange` hears about each reload that changed something. With `check`, the live
    /// versions are checked first (one that fails stays live, with nothing better to serve, and
    /// is a reload error), and so is every new version before it goes live (one that fails
    /// leaves the last good version live).
    public func startWatching(every interval: Duration = .seconds(1), check: VersionCheck? = nil,
                              onChange: @escaping @Sendable (Change) -> Void = { _ in }) {
        lock.lock()
        defer { lock.unlock() }
        guard watcher == nil else { return }
        self.check = check
        let seconds = interval.secondsValue
        let thread = Thread { [weak self] in
            if check != nil, let change = self?.checkLive(), !change.newErrors.isEmpty { onChange(change) }
            while true {
                Thread.sleep(forTimeInterval: seconds)
                guard let self, !self.isStopped else { return }
                let change = self.reloadIfChanged()
                if !change.isEmpty || !change.problems.isEmpty || !change.newErrors.isEmpty || !change.clearedErrors.isEmpty { onChange(change) }
            }
        }
        thread.name = "sluice-registry-watch"
        watcher = thread
        thread.start()
    }

    /// Sets the check new versions must pass before they go live (see ``startWatching(every:check:onChange:)``),
    /// for callers that call ``reload()`` themselves.
    public func checkNewVersions(with check: VersionCheck?) {
        lock.lock()
        self.check = check
        lock.unlock()
    }

    /// Checks the live versions and the folders that did not load (at the start of watching);
    /// the failures become reload errors.
    @discardableResult
    public func checkLive() -> Change {
        lock.lock()
        let (live, failures, check) = (snapshot.live, snapshot.failures, self.check)
        lock.unlock()
        var found: [ReloadError] = []
        let now = Date()
        for version in live.values.sorted(by: { $0.name < $1.name }) {
            guard let error = check?(version) else { continue }
            found.append(ReloadError(transformation: version.name, file: Self.file(named: error, by: version, librariesRoot: librariesRoot),
                                     error: error, since: now, serving: nil, rejected: version.id))
        }
        for failure in failures {
            found.append(ReloadError(transformation: TransformationLoader.baseName(failure.folder), file: Self.file(in: failure.message, folder: failure.folder),
                                     error: failure.message, since: now))
        }
        lock.lock()
        defer { lock.unlock() }
        var change = Change()
        for error in found where errors[error.transformation]?.error != error.error {
            errors[error.transformation] = error
            change.newErrors.append(error)
        }
        return change
    }

    /// The file a check's `error` is about: the library or entry file of `version` whose name it
    /// mentions (the engines name file, line and column), else the entry file.
    static func file(named error: String, by version: TransformationVersion, librariesRoot: String) -> String {
        let isFolder = FileSystem.kind(of: version.origin) == .directory
        let entry = isFolder ? version.origin + "/" + version.source.fileName : version.origin
        if error.contains(version.source.fileName) { return entry }
        for library in version.libraries where error.contains(library.fileName) {
            let shared = librariesRoot + "/" + library.fileName
            return FileSystem.kind(of: shared) == .file ? shared : library.fileName
        }
        return entry
    }

    /// The path a load failure's message starts with (`<path>: …`) when it is inside `folder`, else the folder.
    static func file(in message: String, folder: String) -> String {
        guard let colon = message.range(of: ": ") else { return folder }
        let path = String(message[..<colon.lowerBound])
        return path.hasPrefix(folder) ? path : folder
    }

    public func stopWatching() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    private var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    static func load(transformationsRoot: String, librariesRoot: String, languages: LanguageTable) -> Snapshot {
        var snapshot = Snapshot()
        let shared = LibraryDirectory(root: librariesRoot, languages: languages)
        func add(_ version: TransformationVersion) {
            if let existing = snapshot.live[version.name] {
                snapshot.problems.append("\(version.origin): the name \(version.name) is already taken by \(existing.origin); skipped")
            } else {
                snapshot.live[version.name] = version
            }
        }
        let entries = ((try? FileSystem.list(transformationsRoot)) ?? []).sorted()
        for entry in entries where !entry.hasPrefix(".") {
            let path = transformationsRoot + "/" + entry
            guard FileSystem.kind(of: path) == .directory else { continue }
            do {
                if RudderProject.exists(at: path) && !FileSystem.hasAnyFile(path, of: TransformationLoader.markerFiles) {
                    let project = try RudderProject.load(path)
                    let libraries = ChainedLibraries([project.libraryProvider, shared])
                    for transformation in project.transformations {
                        var source = transformation.source
                        source.name = transformation.id
                        add(try .linking(source, from: libraries, languages: languages, description: transformation.description ?? transformation.source.name,
                                         origin: transformation.specFile))
                    }
                } else {
                    let definition = try TransformationLoader.load(path: path)
                    add(try .linking(definition.source, from: shared, languages: languages, limits: definition.limits, description: definition.description,
                                     origin: path))
                }
            } catch {
                snapshot.problems.append("\(path): \(error)")
                snapshot.failures.append((path, "\(error)"))
            }
        }
        return snapshot
    }

    /// Paths, sizes and modification times of every file below `roots` (hidden ones skipped).
    static func fingerprint(of roots: [String]) -> String {
        var parts: [String] = []
        for root in roots {
            guard let enumerator = FileManager.default.enumerator(atPath: root) else { continue }
            while let relative = enumerator.nextObject() as? String {
                if relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) { continue }
                guard let attributes = enumerator.fileAttributes, attributes[.type] as? FileAttributeType == .typeRegular else { continue }
                let size = attributes[.size] as? Int ?? -1
                let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
                parts.append("\(root)/\(relative)|\(size)|\(modified)")
            }
        }
        return parts.sorted().joined(separator: "\n")
    }
}
