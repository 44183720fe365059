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
public final class Registry: @unchecked Sendable {
    // @unchecked: the mutable state is guarded by `lock`.

    /// What one load found.
    public struct Snapshot: Sendable {
        /// Live versions by transformation name.
        public var live: [String: TransformationVersion] = [:]
        /// Folders and files that failed to load, with why (never fatal: the rest is served).
        public var problems: [String] = []
    }

    /// What a reload changed.
    public struct Change: Sendable, Equatable {
        /// Transformation names with a new live version (new or changed), and those that are gone.
        public var updated: [String] = []
        public var removed: [String] = []
        public var problems: [String] = []
        /// The new live version id of each updated name.
        public var versionIDs: [String: String] = [:]
        public var isEmpty: Bool { updated.isEmpty && removed.isEmpty }
    }

    public let transformationsRoot: String
    public let librariesRoot: String
    /// The languages' knowledge versions are linked with (which imports name which library files).
    public let languages: LanguageTable
    private let lock = NSLock()
    private var snapshot = Snapshot()
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
        let loaded = Self.load(transformationsRoot: transformationsRoot, librariesRoot: librariesRoot, languages: languages)
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
        for version in loaded.live.values { byID[version.id] = version }
        snapshot = loaded
        self.fingerprint = fingerprint
        return change
    }

    /// Polls the folders every `interval` on a background thread and reloads on a change;
    /// `onChange` hears about each reload that changed something.
    public func startWatching(every interval: Duration = .seconds(1), onChange: @escaping @Sendable (Change) -> Void = { _ in }) {
        lock.lock()
        defer { lock.unlock() }
        guard watcher == nil else { return }
        let seconds = interval.secondsValue
        let thread = Thread { [weak self] in
            while true {
                Thread.sleep(forTimeInterval: seconds)
                guard let self, !self.isStopped else { return }
                let change = self.reloadIfChanged()
                if !change.isEmpty || !change.problems.isEmpty { onChange(change) }
            }
        }
        thread.name = "sluice-registry-watch"
        watcher = thread
        thread.start()
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
