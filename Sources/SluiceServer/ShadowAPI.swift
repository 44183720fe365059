import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime

/// `POST`, `GET` and `DELETE /v1/transformations/{name}/shadow` (docs/http.md), independent of
/// the HTTP library: start a shadow run of a candidate version beside the live one, read its
/// report, stop it. Shadow runs live in this process's memory (``ShadowRuns``): each replica has
/// its own, and a restart ends them.
public struct ShadowAPI: Sendable {
    public let api: NativeAPI
    public let pool: EnginePool
    /// The recording rules' redaction paths (`serve --record-redact`), applied to examples.
    public let redact: [String]

    public init(api: NativeAPI, pool: EnginePool, redact: [String]) {
        self.api = api
        self.pool = pool
        self.redact = redact
    }

    static let settingNames = ["candidate", "sampleRate", "maxCpuShare", "ignore"]

    /// `POST …/shadow` `{"candidate": id, "sampleRate": r, "maxCpuShare"?: s, "ignore"?: [path]}` → 201 and the (empty) report.
    public func start(name: String, body: [UInt8]) async -> WireResponse {
        let request: [String: Any]
        do { request = try ToolingHandler.object(body) } catch {
            return .error(400, "\(error); send {\"candidate\": \"<version id>\", \"sampleRate\": 0.1, \"maxCpuShare\": 0.25}")
        }
        for key in request.keys.sorted() where !Self.settingNames.contains(key) {
            return .error(400, "\(key) is not a shadow setting (use \(Self.settingNames.joined(separator: ", ")))")
        }
        guard let candidateID = request["candidate"] as? String, !candidateID.isEmpty else {
            return .error(400, "candidate is required: the id of a version of \(name) to run beside its live version")
        }
        guard let sampleRate = Self.fraction(request["sampleRate"]) else {
            return .error(400, "sampleRate is required: a number above 0 and at most 1 (the share of live batches the candidate also runs), not \(Self.text(request["sampleRate"]))")
        }
        var settings = ShadowRun.Settings(sampleRate: sampleRate)
        if let share = request["maxCpuShare"] {
            guard let share = Self.fraction(share) else {
                return .error(400, "maxCpuShare must be a number above 0 and at most 1 (the share of the CPU candidate batches may take), not \(Self.text(share))")
            }
            settings.maxCpuShare = share
        }
        if let ignore = request["ignore"] {
            guard let paths = ignore as? [String], paths.allSatisfy({ $0.hasPrefix("$") }) else {
                return .error(400, "ignore must be a list of result paths starting with $ (e.g. \"$[*].output.context.sentAt\")")
            }
            settings.ignore = paths
        }
        settings.redact = redact
        // The live version: it also says whether the transformation exists.
        let live: TransformationVersion
        switch await api.versionToRun(name: name, versionID: nil) {
        case .run(let version): live = version
        case .refused(let response): return response
        }
        let candidate: TransformationVersion
        switch await api.versionToRun(name: name, versionID: candidateID) {
        case .run(let version): candidate = version
        case .refused(let response):
            if response.status == 404, let owner = await api.transformationOwning(versionID: candidateID) {
                return .error(400, "candidate: version \(candidateID) is a version of transformation \(owner), not of \(name)")
            }
            return response.status == 404 ? .error(404, "candidate: transformation \(name) has no version \(candidateID)") : response
        }
        guard candidate.id != live.id else {
            return .error(400, "candidate: \(candidateID) is the live version of \(name); a shadow run compares another version with it")
        }
        guard candidate.source.language == live.source.language else {
            return .error(400, "candidate: version \(candidateID) is \(candidate.source.language.rawValue) and the live version \(live.id) is \(live.source.language.rawValue); a shadow run compares versions of one language")
        }
        let compileProblem = await pool.performValue { $0.compileFailure(candidate) }
        guard let compileProblem else { return .error(503, "all workers busy; retry later") }
        if let compileProblem { return .error(400, "candidate: version \(candidateID) does not compile: \(compileProblem)") }
        let shadows = pool.shadows
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            startThread {
                shadows.prepareCandidateExecutor()
                done.resume()
            }
        }
        let run = ShadowRun(transformation: name, candidate: candidate, liveVersion: live.id, settings: settings)
        if let existing = pool.shadows.start(run) {
            return .error(409, "transformation \(name) already has a shadow run on this replica (candidate \(existing.candidate.id)); DELETE /v1/transformations/\(name)/shadow first")
        }
        return NativeAPI.json(201, run.report.jsonObject, headers: [("Location", "/v1/transformations/\(name)/shadow")])
    }

    /// `GET …/shadow`: the report so far.
    public func report(name: String) -> WireResponse {
        guard let run = pool.shadows.run(for: name) else { return Self.noShadow(name) }
        return NativeAPI.json(200, run.report.jsonObject)
    }

    /// `DELETE …/shadow`: stops sampling; the final report.
    public func stop(name: String) -> WireResponse {
        guard let report = pool.shadows.stop(name) else { return Self.noShadow(name) }
        return NativeAPI.json(200, report.jsonObject)
    }

    static func noShadow(_ name: String) -> WireResponse {
        .error(404, "transformation \(name) has no shadow run on this replica (shadow runs are kept in each replica's memory)")
    }

    /// A number above 0 and at most 1 (not a boolean), else nil.
    static func fraction(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, !JSONDiff.isBoolean(number), !(value is String) else { return nil }
        let double = number.doubleValue
        return double > 0 && double <= 1 ? double : nil
    }

    static func text(_ value: Any?) -> String {
        guard let value else { return "missing" }
        return JSONDiff.text(value)
    }
}

extension NativeAPI {
    /// The transformation a version id belongs to (the folder's, archived, the API's), or nil.
    func transformationOwning(versionID: String) async -> String? {
        if let version = registry.version(versionID), version.id == versionID { return version.name }
        return (try? await catalog.version(id: versionID))?.name
    }
}
