import Foundation
import SluiceCore
import Testing

/// One version everywhere: the built binary's `--version`, `/health` and `/version` all report
/// `SluiceVersion.current`.
@Suite(.serialized) struct VersionReports {
    @Test func theBinaryPrintsItsVersion() throws {
        let result = try sluice(["--version"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == SluiceVersion.current + "\n")
        #expect(result.stderr.isEmpty)
    }

    @Test func healthAndVersionRoutesReportWhatTheBinaryPrints() async throws {
        let printed = try sluice(["--version"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let root = try folder(["tag/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try ServeCommand.Server(transformations: root, arguments: ["--workers", "1"])
        let health = try await server.get("/health")
        #expect(health.status == 200)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(health.body.utf8)) as? [String: Any])
        #expect(object["version"] as? String == printed, "\(health.body)")
        #expect(try await server.get("/version").body == printed)
        #expect(server.stop() == 0)
    }
}
