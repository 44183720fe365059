import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime
@testable import SluiceServer
import Testing
import SluiceTestSupport

@Suite struct CompiledCacheTests {
    @Test func evictsTheLeastRecentlyUsedPastTheCountAndCountsHitsAndMisses() {
        var limits = CacheLimits()
        limits.count = 2
        let cache = CompiledCache<String>(limits: limits)
        #expect(cache.value(for: "a") == nil)
        cache.insert("a", for: "a", bytes: 10)
        cache.insert("b", for: "b", bytes: 10)
        #expect(cache.value(for: "a") != nil)   // a is now more recent than b
        cache.insert("c", for: "c", bytes: 10)
        #expect(cache.count == 2)
        #expect(cache.value(for: "b") == nil)
        #expect(cache.value(for: "a") != nil && cache.value(for: "c") != nil)
        #expect(cache.hits == 3 && cache.misses == 2 && cache.evictions == 1)
    }

    @Test func evictsPastTheByteBudgetButKeepsTheNewestEvenWhenItAloneIsTooLarge() {
        var limits = CacheLimits()
        limits.bytes = 100
        let cache = CompiledCache<String>(limits: limits)
        cache.insert("a", for: "a", bytes: 60)
        cache.insert("b", for: "b", bytes: 60)
        #expect(cache.count == 1 && cache.value(for: "b") != nil)
        cache.insert("huge", for: "huge", bytes: 1000)
        #expect(cache.count == 1 && cache.value(for: "huge") != nil)
    }
}

@Suite struct ServiceResolverTests {
    @Test func resolvesByIdOrNameCompilesWithThePinnedLibrariesAndCachesByContentId() throws {
        let root = TemporaryFolder.path("sluice-pool")
        defer { try? FileManager.default.removeItem(atPath: root) }
        func write(_ path: String, _ text: String) throws {
            try FileManager.default.createDirectory(atPath: (root + "/" + path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: root + "/" + path, atomically: false, encoding: .utf8)
        }
        try write("t/a/transform.js", #"import { tag } from "tagger"; export function transformEvent(e) { e.t = tag(); return e; }"#)
        try write("lib/tagger.js", "export function tag() { return 1; }")
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: Engines.languages)
        let runtime = Runtime(libraries: NoLibraries())
        let resolver = ServiceResolver(versions: registry, limits: .defaults)
        let lookups = CacheLookups()
        let handler = CustomTransformHandler(executor: InProcessExecutor(runtime: runtime, observer: lookups), resolver: resolver)
        func run(_ version: String) -> String {
            let body = #"[{"message":{"n":1},"metadata":{"sourceId":"s","destinationId":"d"},"destination":{"Transformations":[{"VersionID":"\#(version)"}]}}]"#
            return String(decoding: handler.handle(body: Array(body.utf8), filterCode: false).body, as: UTF8.self)
        }
        let first = try #require(registry.version("a")).id
        #expect(run("a").contains(#""t":1"#))
        #expect(run(first).contains(#""t":1"#))
        #expect(lookups.misses == 1 && lookups.hits == 1, "the name and the id are the same version")

        try write("lib/tagger.js", "export function tag() { return 2; }")
        registry.reload()
        #expect(run("a").contains(#""t":2"#))
        #expect(run(first).contains(#""t":1"#), "an old id keeps running the code it named")
        #expect(run("sv000000000000000000000000").contains(#""statusCode":404"#))
    }
}

/// Counts an executor's cache lookups.
final class CacheLookups: CompileObserver, @unchecked Sendable {
    // @unchecked: the tests run the handler on one thread.
    private(set) var hits = 0
    private(set) var misses = 0
    func cacheLookup(hit: Bool) { if hit { hits += 1 } else { misses += 1 } }
    func compiled(transformation: String, version: String, duration: Duration, failed: Bool) {}
    func cacheEvictions(_ count: Int) {}
}
