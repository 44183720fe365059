import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox

/// The composition root's wiring: where user code runs and where versions come from are decided
/// here, once, and every handler then uses the same seam.
extension SluiceService {
    /// The engine pool: threads with handlers over the executor chosen at start-up (the worker
    /// processes, or in-process engines) and the one version resolver (the folders, the API's
    /// store, the config backend, in that order).
    func enginePool() -> EnginePool {
        let logger = configuration.logger
        let metrics = self.metrics
        let executors = EnginePool.executors(processes: processes, workers: configuration.workers, cacheLimits: configuration.cacheLimits,
                                             metrics: metrics)
        // Where versions come from, in order: the folders, the API's store, the config backend.
        let sources: [(any VersionSource)?] = [registry, catalog, configBackend]
        let versions = ChainedVersionSources(sources.compactMap { $0 }, observer: { metrics.versionLookup(from: $0, $1) })
        let resolver = ServiceResolver(versions: versions, limits: configuration.limits)
        var libraryVersions: (@Sendable ([String], Language) throws -> [LibrarySource])?
        if let configBackend {
            libraryVersions = { ids, language in try configBackend.libraries(versionIDs: ids, language: language) }
        }
        let pool = EnginePool(threads: executors.threads, makeExecutor: executors.make, resolver: resolver, metrics: metrics, logger: logger,
                              limits: configuration.limits, recorder: recorder, toolingLibraries: catalog.libraryProvider(),
                              libraryVersions: libraryVersions,
                              breaker: breaker, fetch: fetch, fetchCallsPerInvocation: configuration.fetchLimits.callsPerInvocation,
                              rollouts: rollouts)
        if let processes { pool.shadows.makeCandidateExecutor = Self.candidateWorker(like: processes.configuration, logger: logger) }
        return pool
    }

    /// Shadow runs' candidates run in a worker process of their own, started (on the first shadow
    /// run) like the live ones but through nice(1) at the lowest CPU priority: candidate batches
    /// use the cores live batches leave idle. One worker, no spare.
    static func candidateWorker(like live: WorkerPool.Configuration, logger: Logger) -> @Sendable () throws -> any BatchExecutor {
        var configuration = live
        configuration.count = 1
        configuration.spares = 0
        configuration.arguments = ["-n", "19", live.executable] + live.arguments
        configuration.executable = "/usr/bin/nice"
        return { [configuration] in
            let pool = try WorkerPool(configuration: configuration) { event in
                if case .started(_, let pid, _) = event { logger.info("shadow runs' worker started (nice 19)", metadata: ["worker.pid": .stringConvertible(pid)]) }
                if case .lost(_, let pid, let reason) = event {
                    logger.warning("shadow runs' worker lost", metadata: ["worker.pid": .stringConvertible(pid), "error": "\(reason)"])
                }
            }
            return pool
        }
    }

    /// Watches the transformations and libraries folders every `interval`: new versions are
    /// compiled on `pool` before they go live (one that does not compile leaves the last good
    /// version live and is a reload error in `/health`, the log and the metrics), archived in the
    /// store and logged.
    func watchFolders(every interval: Duration, pool: EnginePool) {
        let logger = configuration.logger
        let metrics = self.metrics
        let catalog = self.catalog
        let registry = self.registry
        // Compiled by a worker (the watcher is a plain thread, so it may wait); a check that
        // could not run (no worker free) lets the version go live, where requests report it.
        let check: Registry.VersionCheck = { version in
            guard let answer = try? waitFor({ await pool.performValue { $0.compileFailure(version) } }), let error = answer else { return nil }
            return error
        }
        registry.startWatching(every: interval, check: check) { change in
            metrics.reload(updated: change.updated.count)
            let updated = registry.live.filter { change.updated.contains($0.name) }
            if !updated.isEmpty {
                Task {
                    do { try await catalog.archive(updated) } catch {
                        logger.error("cannot archive new versions in the store", metadata: ["error": "\(error)"])
                    }
                }
            }
            for name in change.updated {
                logger.info("new version", metadata: ["transformation.name": "\(name)", "transformation.version": "\(change.versionIDs[name] ?? "?")"])
            }
            for name in change.removed { logger.info("transformation removed", metadata: ["transformation.name": "\(name)"]) }
            // A folder that does not load is a reload error, logged once below.
            for problem in change.problems where !change.newErrors.contains(where: { problem.hasSuffix($0.error) }) {
                logger.warning("skipped", metadata: ["error": "\(problem)"])
            }
            for error in change.newErrors {
                metrics.reloadFailure(transformation: error.transformation)
                var metadata: Logger.Metadata = ["transformation.name": "\(error.transformation)", "file": "\(error.file)", "error": "\(error.error)"]
                if let serving = error.serving { metadata["transformation.version"] = "\(serving)" }
                let message: Logger.Message = error.serving == nil
                    ? "transformation does not load or compile" : "changed transformation does not load or compile; its last good version stays live"
                logger.warning(message, metadata: metadata)
            }
            for name in change.clearedErrors { logger.notice("transformation reloads again", metadata: ["transformation.name": "\(name)"]) }
            metrics.reloadErrors(registry.reloadErrors.count)
        }
    }
}
