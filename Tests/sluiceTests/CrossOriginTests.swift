import Foundation
import Testing

/// A page on another origin cannot make a browser publish, run or change code on a Sluice it can
/// reach (loopback above all); data-plane clients, which send no Origin, are never refused.
@Suite(.serialized) struct CrossOrigin {
    @Test func aBrowserOnAnotherOriginIsRefusedAndEveryOtherClientIsNot() async throws {
        let root = try folder(["t/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try ServeCommand.Server(transformations: root)
        defer { _ = server.stop() }
        let create = #"{"name":"made","language":"javascript"}"#

        // A hostile page: a no-preflight POST carries its Origin, or Sec-Fetch-Site cross-site.
        let fromPage = try await server.post("/v1/transformations", create, headers: ["Origin": "http://evil.example", "Content-Type": "text/plain"])
        #expect(fromPage.status == 403)
        #expect(fromPage.body.contains("Origin http://evil.example is not this service's origin"), "\(fromPage.body)")
        let crossSite = try await server.post("/transformation/test", #"{"events":[],"trRevCode":{"code":"","language":"javascript"}}"#,
                                              headers: ["Sec-Fetch-Site": "cross-site"])
        #expect(crossSite.status == 403)
        #expect(crossSite.body.contains("Sec-Fetch-Site: cross-site"))
        let batch = ServeCommand.request(version: "t", messages: [#"{"n":1}"#])
        #expect(try await server.post("/customTransform", batch, headers: ["Origin": "null"]).status == 403)
        // Nothing was created by the refused request.
        #expect(try await server.get("/v1/transformations/made").status == 404)

        // Reads stay open (no state changes), and clients without Origin pass as before.
        let read = try await server.get("/v1/transformations")
        #expect(read.status == 200)
        #expect(try await server.post("/customTransform", batch).status == 200)
        #expect(try await server.post("/v1/transformations", create).status == 201)
        // A page of the service itself (same origin), or a request the user typed, passes.
        let sameOrigin = try await server.post("/customTransform", batch, headers: ["Origin": "http://127.0.0.1:\(server.port)", "Sec-Fetch-Site": "same-origin"])
        #expect(sameOrigin.status == 200)
        #expect(try await server.post("/customTransform", batch, headers: ["Sec-Fetch-Site": "none"]).status == 200)
    }
}
