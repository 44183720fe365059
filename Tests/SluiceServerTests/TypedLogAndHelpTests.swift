import Foundation
import Logging
import SluiceCore
import SluiceSandbox
@testable import SluiceServer
import Testing

/// JSON log values keep their types; every metric family has its `# HELP` line.
@Suite struct TypedLogAndHelpTests {
    @Test func numbersAndBooleansAreJSONNumbersAndBooleans() throws {
        let lines = ObservabilityTests.Lines()
        let logger = Logger(label: "sluice") { JSONLogHandler(label: $0, write: lines.append) }
        logger.info("typed", metadata: [
            "worker.pid": .stringConvertible(Int32(4242)), "events": .stringConvertible(3), "active": .stringConvertible(true),
            "rate": .stringConvertible(0.5), "name": "42", "mechanisms": .array(["seccomp", "rlimit_core"]),
            "nested": .dictionary(["count": .stringConvertible(UInt64(7)), "ok": .stringConvertible(false)]),
        ])
        let line = try #require(lines.all.first)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["worker.pid"] as? Int == 4242 && object["events"] as? Int == 3)
        #expect(object["active"] as? Bool == true && (object["active"] as? NSNumber).map { String(cString: $0.objCType) } == "c")
        #expect(object["rate"] as? Double == 0.5)
        #expect(object["name"] as? String == "42", "a string stays a string, even when it looks like a number")
        #expect(object["mechanisms"] as? [String] == ["seccomp", "rlimit_core"])
        #expect((object["nested"] as? [String: Any])?["count"] as? Int == 7 && (object["nested"] as? [String: Any])?["ok"] as? Bool == false)
    }

    @Test func everyFamilyHasHelpAndWorkerCompilesCountLikeInProcessOnes() {
        let metrics = ServiceMetrics()
        metrics.workerCompile(transformation: "t", version: "sv1", report: CompileReport(cacheHit: false, compileNanoseconds: 2_000_000, compileFailed: true, evictions: 2))
        metrics.workerCompile(transformation: "t", version: "sv1", report: CompileReport(cacheHit: true))
        metrics.reloadFailure(transformation: "t")
        metrics.reloadErrors(1)
        metrics.v1Run(transformation: "t")
        metrics.request(endpoint: "/health", status: 200, duration: .milliseconds(1))
        metrics.storeState(listening: true)
        metrics.storeNotification(kind: "library")
        metrics.storePolledChanges(2)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        #expect(text.contains(#"sluice_compile_duration_seconds_count{transformation="t",version="sv1"} 1"#))
        #expect(text.contains(#"sluice_compile_failures_total{transformation="t",version="sv1"} 1"#))
        #expect(text.contains(#"sluice_compiled_cache_lookups_total{result="miss"} 1"#))
        #expect(text.contains(#"sluice_compiled_cache_lookups_total{result="hit"} 1"#))
        #expect(text.contains("sluice_compiled_cache_evictions_total 2"))
        #expect(text.contains("sluice_reload_errors 1"))
        #expect(text.contains("sluice_store_listening 1") && text.contains(#"sluice_store_notifications_total{kind="library"} 1"#))
        #expect(text.contains("sluice_store_polled_changes_total 2"))
        let lines = text.split(separator: "\n")
        let families = lines.filter { $0.hasPrefix("# TYPE ") }.map { $0.split(separator: " ")[2] }
        let helped = Set(lines.filter { $0.hasPrefix("# HELP ") }.map { $0.split(separator: " ")[2] })
        #expect(families.count >= 8)
        for family in families { #expect(helped.contains(family), "no HELP for \(family)") }
        for name in ServiceMetrics.help.keys { #expect(ServiceMetrics.help[name]?.isEmpty == false) }
    }

    @Test func aPortInUseIsNamedWithItsAddress() async throws {
        #expect(await ListenCheck.problem(host: "127.0.0.1", port: 0) == nil)
        #expect(ListenCheck.explanation(errno: EADDRINUSE, port: 9090, otherwise: "x").contains("already in use"))
        #expect(ListenCheck.explanation(errno: EIO, port: 9090, otherwise: "other") == "other")
    }
}
