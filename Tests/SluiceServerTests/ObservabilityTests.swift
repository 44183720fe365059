import Foundation
import Logging
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceServer
import Testing
import SluiceTestSupport

@Suite struct ObservabilityTests {
    final class Lines: @unchecked Sendable {
        private let lock = NSLock()
        private var lines: [String] = []
        func append(_ bytes: [UInt8]) { lock.withLock { lines.append(String(decoding: bytes, as: UTF8.self)) } }
        var all: [String] { lock.withLock { lines } }
    }

    @Test func jsonLogLinesCarryTheStableKeysAndNeverLetMetadataOverrideTheFrame() throws {
        let lines = Lines()
        var logger = Logger(label: "sluice") { JSONLogHandler(label: $0, write: lines.append) }
        logger[metadataKey: "service"] = "test"
        logger.warning("limit hit", metadata: ["transformation.name": "mask-pii", "call.outcome": "time_limit", "message": "spoofed"])
        logger.debug("not at info")
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: String])
        #expect(object["level"] == "warning" && object["message"] == "limit hit" && object["label"] == "sluice")
        #expect(object["transformation.name"] == "mask-pii" && object["call.outcome"] == "time_limit" && object["service"] == "test")
        #expect(object["time"]?.hasSuffix("Z") == true && object["time"]?.count == 24)
    }

    @Test func batchesCountEventsOutcomesLimitHitsAndCacheUse() throws {
        let root = TemporaryFolder.path("sluice-metrics")
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/t/loop", withIntermediateDirectories: true)
        try "export function transformEvent(e) { if (e.loop) while (true) {} if (e.drop) return; if (e.fail) throw new Error('x'); return e; }"
            .write(toFile: root + "/t/loop/transform.js", atomically: false, encoding: .utf8)
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let metrics = ServiceMetrics()
        let lines = Lines()
        let runtime = Runtime(libraries: NoLibraries())
        let limits = Limits(timeMilliseconds: 100, memoryMegabytes: 128)
        let resolver = ServiceResolver(versions: registry, limits: limits)
        let handler = CustomTransformHandler(executor: InProcessExecutor(runtime: runtime, observer: metrics), resolver: resolver, limits: limits, metrics: metrics,
                                             logger: Logger(label: "sluice") { JSONLogHandler(label: $0, write: lines.append) })
        let body = #"[{"message":{"n":1},"metadata":{"sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"loop"}]}},{"message":{"drop":true},"metadata":{"sourceId":"s","destinationId":"d"}},{"message":{"fail":true},"metadata":{"sourceId":"s","destinationId":"d"}},{"message":{"loop":true},"metadata":{"sourceId":"s","destinationId":"d"}},{"message":{},"metadata":{"sourceId":"s","destinationId":"other"},"destination":{"Transformations":[{"VersionID":"unknown"}]}}]"#
        _ = handler.handle(body: Array(body.utf8), filterCode: false)
        _ = handler.handle(body: Array(body.utf8), filterCode: false)
        let text = String(decoding: metrics.exposition(), as: UTF8.self)
        let id = try #require(registry.version("loop")).id
        let labels = #"transformation="loop",version="\#(id)""#
        #expect(text.contains("sluice_events_in_total{\(labels)} 8"))
        #expect(text.contains("sluice_events_out_total{\(labels)} 2"))
        #expect(text.contains("sluice_events_dropped_total{\(labels)} 2"))
        #expect(text.contains(#"sluice_events_failed_total{\#(labels),kind="exception"} 2"#))
        #expect(text.contains(#"sluice_events_failed_total{\#(labels),kind="time_limit"} 2"#))
        #expect(text.contains(#"sluice_limit_hits_total{\#(labels),limit="time"} 2"#))
        #expect(text.contains("sluice_batch_duration_seconds_count{\(labels)} 2"))
        #expect(text.contains("sluice_compile_duration_seconds_count{\(labels)} 1"))
        #expect(text.contains(#"sluice_compiled_cache_lookups_total{result="miss"} 1"#))
        #expect(text.contains(#"sluice_compiled_cache_lookups_total{result="hit"} 1"#))
        #expect(text.contains(#"sluice_unresolved_events_total{kind="not_found",status="404"} 2"#))
        let warnings = lines.all.filter { $0.contains(#""message":"limit hit""#) }
        #expect(warnings.count == 2 && warnings[0].contains(#""call.outcome":"time_limit""#) && warnings[0].contains(#""transformation.version":"\#(id)""#))
    }
}
