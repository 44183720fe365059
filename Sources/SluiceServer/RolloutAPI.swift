import Foundation
import SluiceCore
import SluiceRegistry
import SluiceStore

/// The canary-rollout routes of `/v1` (docs/openapi.yaml), independent of the HTTP library:
/// starting, reading, promoting and aborting a transformation's rollout, and its audit list.
/// The rollout logic is the controller's and the catalog's; this maps requests and answers.
public struct RolloutAPI: Sendable {
    public let controller: RolloutController
    public let registry: Registry

    public init(controller: RolloutController, registry: Registry) {
        self.controller = controller
        self.registry = registry
    }

    /// Who a change is recorded as: the `X-Sluice-Actor` header (an operator's or a tool's name,
    /// at most 200 characters), else the client's address, else `unknown`.
    public static func actor(header: String?, peer: String?) -> String {
        if let header = header?.trimmingCharacters(in: .whitespaces), !header.isEmpty { return String(header.prefix(200)) }
        if let peer, !peer.isEmpty { return peer }
        return "unknown"
    }

    /// `POST /v1/transformations/{name}/rollout` `{candidate, percent, rollback?, steps?}` → 201.
    public func start(name: String, body: [UInt8], actor: String) async -> WireResponse {
        let object: [String: Any]
        do { object = try ToolingHandler.object(body) } catch { return .error(400, "\(error)") }
        do {
            let request = try RolloutRequest(json: object)
            let rollout = try await controller.start(name: name, request, actor: actor)
            return NativeAPI.json(201, describe(rollout, counts: controller.counts(of: rollout)), headers: [("Location", "/v1/transformations/\(name)/rollout")])
        } catch {
            return NativeAPI.failure(error)
        }
    }

    /// `GET /v1/transformations/{name}/rollout`: the rollout in progress (with every replica's
    /// counts), or the last one with how it ended; 404 when it never had one.
    public func get(name: String) async -> WireResponse {
        await answer(name) { try await controller.catalog.storedRollout(name: name) }
    }

    /// `POST /v1/transformations/{name}/rollout/promote`: the candidate becomes live.
    public func promote(name: String, actor: String) async -> WireResponse {
        await answer(name) { try await controller.promote(name: name, actor: actor) }
    }

    /// `DELETE /v1/transformations/{name}/rollout`: the rollout ends; the live version stays.
    public func abort(name: String, actor: String) async -> WireResponse {
        await answer(name) { try await controller.abort(name: name, actor: actor) }
    }

    /// 200 with the rollout `body` gives, or a 404 naming what is missing (the transformation, or
    /// a rollout in progress), or the catalog's failure.
    private func answer(_ name: String, _ body: () async throws -> Rollout?) async -> WireResponse {
        do {
            guard let rollout = try await body() else { return try await missing(name) }
            let counts = rollout.isActive ? await controller.fleetCounts(of: rollout) : rollout.finalCounts ?? controller.counts(of: rollout)
            return NativeAPI.json(200, describe(rollout, counts: counts))
        } catch {
            return NativeAPI.failure(error)
        }
    }

    /// `GET /v1/transformations/{name}/audit`: every rollout change, oldest first.
    public func audit(name: String) async -> WireResponse {
        do {
            if registry.version(name)?.name != name, try await controller.catalog.transformation(name) == nil {
                return .error(404, "transformation \(name) not found")
            }
            let entries = try await controller.catalog.audit(name: name)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let list = (try? encoder.encode(entries)) ?? Data("[]".utf8)
            var body = Array(#"{"name":"#.utf8)
            JSONString.append(name, to: &body)
            body += #","entries":"#.utf8
            body += list
            body.append(UInt8(ascii: "}"))
            return WireResponse(status: 200, body: body)
        } catch {
            return NativeAPI.failure(error)
        }
    }

    /// 404 naming what is missing: the transformation, or a rollout in progress.
    private func missing(_ name: String) async throws -> WireResponse {
        if registry.version(name)?.name != name, try await controller.catalog.transformation(name) == nil {
            return .error(404, "transformation \(name) not found")
        }
        return .error(404, "transformation \(name) has no rollout in progress")
    }

    /// The rollout as the API shows it, with `measured` counts and rates per version.
    func describe(_ rollout: Rollout, counts measured: [String: RolloutCounts]) -> [String: Any] {
        func counts(_ counts: RolloutCounts?) -> Any {
            guard let counts else { return NSNull() }
            return ["version": counts.version, "events": counts.events, "errors": counts.errors, "limitHits": counts.limitHits,
                    "errorRate": counts.errorRate, "limitHitRate": counts.limitHitRate] as [String: Any]
        }
        var body: [String: Any] = [
            "name": rollout.name, "id": rollout.id, "state": rollout.state.rawValue, "live": rollout.live, "candidate": rollout.candidate,
            "percent": rollout.percent, "startedAt": rollout.startedAt, "startedBy": rollout.startedBy,
            "rollback": ["maxErrorRateIncrease": rollout.rollback.maxErrorRateIncrease, "maxLimitHitRateIncrease": rollout.rollback.maxLimitHitRateIncrease,
                         "minEvents": rollout.rollback.minEvents] as [String: Any],
            "steps": rollout.steps.enumerated().map { index, step in
                ["percent": step.percent, "after": step.after, "dueAt": rollout.dueDate(of: step).map { Self.timestamp($0) } ?? NSNull(),
                 "done": index < rollout.stepsTaken] as [String: Any]
            },
            "counts": ["live": counts(measured["live"]), "candidate": counts(measured["candidate"])],
            "endedAt": rollout.endedAt ?? NSNull(), "endedBy": rollout.endedBy ?? NSNull(), "reason": rollout.reason ?? NSNull(),
        ]
        if rollout.isActive, let next = rollout.nextStep {
            body["nextStep"] = ["percent": next.percent, "after": next.after, "dueAt": rollout.dueDate(of: next).map { Self.timestamp($0) } ?? NSNull()] as [String: Any]
        } else {
            body["nextStep"] = NSNull()
        }
        return body
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }
}
