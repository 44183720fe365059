import Foundation
import Hummingbird
import SluiceStudio

extension StudioRoutes {
    /// Studio's recording routes (docs/studio.md#recordings): the recordings of the configured
    /// folders, and a slice of one run through the editor's code and compared with what was
    /// recorded. Reading and comparing are ``StudioRecordings`` and ``StudioRunPlan``'s; the run
    /// goes through the service's executor on an engine thread, as every Studio run does.
    func addRecordings(to router: Router<BasicRequestContext>) {
        let workspace = self.workspace
        let guardian = self.guardian
        let pool = self.pool
        let recordings = self.recordings
        let cap = maximumBodyBytes
        router.get("studio/api/recordings") { request, _ -> Response in
            if let problem = guardian.hostRefusal(host: Self.host(request)) { return Self.response(.error(403, problem)) }
            return Self.response(await workspace.recordingsListing(recordings))
        }
        router.post("studio/api/recordings/run") { request, _ -> Response in
            if let problem = Self.refusal(request, guardian) { return Self.response(.error(403, problem)) }
            guard let body = try await SluiceService.collectBody(request, upTo: cap) else {
                return Self.response(.error(413, "request body larger than \(cap) bytes"))
            }
            let run: StudioRecordingRun
            switch await workspace.planRecording(body, recordings: recordings) {
            case .failure(let problem): return Self.response(problem.reply)
            case .success(let found): run = found
            }
            // Reading the slice blocks too: on the engine thread, with the run.
            let reply = await pool.performValue { worker in run.execute(on: worker.customTransform.executor, fetch: worker.tooling.fetch) }
            return Self.response(reply ?? .error(503, "all workers busy; retry later"))
        }
    }
}
