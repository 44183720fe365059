#if canImport(Glibc)
import Glibc
#endif
import Foundation
import SluiceCore
import SluiceRuntime

/// The transformations a service hosts, by version id, loaded from a `transformations/` folder
/// at start. (Content-addressed versions, hot reload and the stores come with the registry; for
/// now a folder's version id is its transformation's name.)
public struct FolderVersions: Sendable {
    public let definitions: [String: TransformationDefinition]
    /// Folders that failed to load, with why (reported at start, not fatal).
    public let problems: [String]

    public init(definitions: [String: TransformationDefinition], problems: [String] = []) {
        self.definitions = definitions
        self.problems = problems
    }

    /// Loads every folder under `root` that holds a transformation.
    public static func load(root: String) throws -> FolderVersions {
        var definitions: [String: TransformationDefinition] = [:]
        var problems: [String] = []
        for name in try FileManager.default.contentsOfDirectory(atPath: root).sorted() {
            let path = root + "/" + name
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            do {
                let definition = try TransformationLoader.load(path: path)
                definitions[definition.source.name] = definition
            } catch {
                problems.append("\(path): \(error)")
            }
        }
        return FolderVersions(definitions: definitions, problems: problems)
    }
}

/// Runs requests on a fixed set of workers, each a thread with its own runtime (its own
/// JavaScriptCore and CPython engines) and its own compiled-code cache, so the service's event
/// loops never block on user code and requests use every core.
public final class EnginePool: Sendable {
    private let jobs: BoundedQueue<@Sendable (CustomTransformHandler) -> Void>
    public let workers: Int
    /// Requests that may wait for a worker; past that, 503 (the server's own threads never wait).
    public let queueCapacity: Int

    /// `workers` threads (default: one per core).
    public init(versions: FolderVersions, librariesRoot: String, limits: Limits = .defaults, workers: Int = EnginePool.coreCount,
                queueCapacity: Int = 256, recorder: TrafficRecorder? = nil) {
        self.workers = max(1, workers)
        self.queueCapacity = max(1, queueCapacity)
        let jobs = BoundedQueue<@Sendable (CustomTransformHandler) -> Void>(capacity: self.queueCapacity)
        self.jobs = jobs
        for _ in 0..<self.workers {
            startThread {
                let runtime = Runtime(libraries: LibraryDirectory(root: librariesRoot))
                let handler = CustomTransformHandler(
                    runtime: runtime, resolver: WorkerResolver(runtime: runtime, versions: versions, limits: limits), limits: limits,
                    recorder: recorder)
                while true { jobs.pop()(handler) }
            }
        }
    }

    /// Handles a `/customTransform` body on a worker; 503 when `queueCapacity` requests are
    /// already waiting for one.
    public func customTransform(body: [UInt8], filterCode: Bool) async -> WireResponse {
        let capacity = queueCapacity
        return await withCheckedContinuation { continuation in
            let queued = jobs.tryPush { handler in continuation.resume(returning: handler.handle(body: body, filterCode: filterCode)) }
            if !queued {
                continuation.resume(returning: .error(503, "all workers busy and \(capacity) requests waiting; retry later"))
            }
        }
    }

    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }
}

/// A worker's view of the versions: compiles each at most once, on first use, in the worker's
/// own runtime, and keeps the result (compile failures too: versions are immutable).
final class WorkerResolver: VersionResolver, @unchecked Sendable {
    // @unchecked: used only on its worker's thread.
    private let runtime: Runtime
    private let versions: FolderVersions
    private let limits: Limits
    private var cache: [String: VersionResolution] = [:]

    init(runtime: Runtime, versions: FolderVersions, limits: Limits) {
        self.runtime = runtime
        self.limits = limits
        self.versions = versions
    }

    func resolve(versionID: String, libraryVersionIDs: [String]) -> VersionResolution {
        if let cached = cache[versionID] { return cached }
        guard let definition = versions.definitions[versionID] else {
            return .notFound("Transformation version \(versionID) not found")
        }
        let resolution: VersionResolution
        do {
            resolution = .compiled(try runtime.compile(definition.source), limits: definition.limits.applied(to: limits))
        } catch {
            resolution = .failed(error.message)
        }
        cache[versionID] = resolution
        return resolution
    }
}
