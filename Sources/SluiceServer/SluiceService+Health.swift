import Foundation
import Hummingbird
import SluiceCore
import SluiceRegistry
import SluiceRuntime
import SluiceSandbox
import SluiceStore

/// `/health` and the breaker list it shares with `/v1/breakers`.
extension SluiceService {
    /// `/health`: the service, its version, where user code runs, its open connections and their
    /// limit and, with worker processes, how many are ready and which confinement mechanisms are
    /// active, and the folder's transformations whose changed files do not compile or load
    /// (`reloadErrors`; their last good version is served), and the API store (`store`: its
    /// state and live set's digest, ``storeJSON(_:)``). 503 while no worker is ready.
    static func health(_ processes: WorkerPool?, connections: OpenConnections, breaker: CircuitBreaker, fence: MemoryFence? = nil,
                       reloadErrors: [Registry.ReloadError] = [], store: Catalog.StoreStatus? = nil) -> Response {
        var body = Array(#"{"service":"#.utf8)
        let statuses = breaker.statuses
        let memory = fence.map { fence in
            #""memory":{"residentBytes":\#(fence.residentBytes),"fenceBytes":\#(fence.configuration.thresholdBytes),"fencing":\#(fence.isFencing)},"#
        } ?? ""
        let connectionFigures = memory + (store.map(Self.storeJSON) ?? "") + #""connections":{"open":\#(connections.count),"limit":\#(connections.limit)},"breakers":{"degraded":\#(statuses.filter { $0.state == .degraded }.count),"disabled":\#(statuses.filter { $0.state == .disabled || $0.state == .probing }.count),"versions":"#
            + String(decoding: Self.breakerJSON(statuses), as: UTF8.self) + "}," + String(decoding: Self.reloadErrorsJSON(reloadErrors), as: UTF8.self)
        guard let processes else {
            body += #""UP","version":"\#(Self.version)","isolation":"in-process",\#(connectionFigures)}"#.utf8
            return Self.json(200, body)
        }
        let status = processes.status
        body += (status.ready > 0 ? #""UP""# : #""DOWN""#).utf8
        body += #","version":"\#(Self.version)","isolation":"processes",\#(connectionFigures),"workers":{"count":\#(status.workers),"ready":\#(status.ready),"busy":\#(status.busy),"spares":\#(status.spares),"replacements":\#(status.replacements)},"confinement":{"#.utf8
        for (index, mechanism) in status.mechanisms.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            JSONString.append(mechanism.name, to: &body)
            body += #":{"active":\#(mechanism.active),"detail":"#.utf8
            JSONString.append(mechanism.detail, to: &body)
            body.append(UInt8(ascii: "}"))
        }
        body += "}}".utf8
        return Self.json(status.ready > 0 ? 200 : 503, body)
    }

    /// `"reloadErrors":[{"transformation","file","error","since","serving"}]` (`serving`: the
    /// version still live, null when there was none to keep).
    static func reloadErrorsJSON(_ errors: [Registry.ReloadError]) -> [UInt8] {
        let list: [[String: Any]] = errors.map { error in
            ["transformation": error.transformation, "file": error.file, "error": error.error,
             "since": CircuitBreaker.timestamp(error.since.timeIntervalSince1970), "serving": error.serving ?? NSNull()]
        }
        let data = (try? JSONSerialization.data(withJSONObject: list, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("[]".utf8)
        return Array(#""reloadErrors":"#.utf8) + Array(data)
    }

    /// The breakers that are not healthy, as a JSON array (`/health`, `/v1/breakers`).
    static func breakerJSON(_ statuses: [CircuitBreaker.Status]) -> [UInt8] {
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (index, status) in statuses.enumerated() {
            if index > 0 { body.append(UInt8(ascii: ",")) }
            body += #"{"version":"#.utf8
            JSONString.append(status.version, to: &body)
            body += #","transformation":"#.utf8
            JSONString.append(status.transformation, to: &body)
            body += #","state":"\#(status.state.rawValue)","reason":"#.utf8
            JSONString.append(status.reason, to: &body)
            if let retryAt = status.retryAt { body += #","retryAt":"\#(CircuitBreaker.timestamp(retryAt))""#.utf8 }
            body += #","window":{"events":\#(status.events),"limitHits":\#(status.limitHits),"workerEndings":\#(status.workerEndings)}}"#.utf8
        }
        body.append(UInt8(ascii: "]"))
        return body
    }
}
