import Foundation
import SluiceCore
import SluiceRegistry
import Testing

/// A source with fixed answers that counts what it was asked.
final class FixedSource: VersionSource, @unchecked Sendable {
    // @unchecked: the tests ask from one thread.
    let answers: [String: VersionLookup]
    private(set) var asked: [(idOrName: String, libraryVersionIDs: [String])] = []
    init(_ answers: [String: VersionLookup]) { self.answers = answers }

    func lookUp(_ idOrName: String, libraryVersionIDs: [String]) -> VersionLookup {
        asked.append((idOrName, libraryVersionIDs))
        return answers[idOrName] ?? .notFound("\(idOrName) is not in this source")
    }
}

@Suite struct VersionSourceTests {
    static func version(_ name: String) -> TransformationVersion {
        TransformationVersion(source: TransformationSource(name: name, language: .javascript, fileName: "transform.js",
                                                           code: "export function transformEvent(e) { return e; }"),
                              libraries: [], origin: "test")
    }

    @Test func theRegistryFindsIDsAndNamesAndSaysNotFoundInRuddersWords() throws {
        let root = try folder(["t/a/transform.js": "export function transformEvent(e) { return e; }"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let registry = try Registry(transformationsRoot: root + "/t", librariesRoot: root + "/lib", languages: languages)
        let live = try #require(registry.version("a"))
        #expect(registry.lookUp("a", libraryVersionIDs: ["lv1"]) == .found(live))
        #expect(registry.lookUp(live.id, libraryVersionIDs: []) == .found(live))
        #expect(registry.lookUp("sv000", libraryVersionIDs: []) == .notFound("Transformation version sv000 not found"))
    }

    @Test func theFirstAnswerThatIsNotNotFoundWinsAndLaterSourcesAreNotAsked() {
        let first = FixedSource(["a": .found(Self.version("a"))])
        let second = FixedSource(["a": .found(Self.version("other")), "b": .unavailable("store down"), "c": .invalid("no code")])
        let third = FixedSource(["b": .found(Self.version("b")), "c": .found(Self.version("c"))])
        let resolver = ChainedVersionSources([first, second, third])
        #expect(resolver.lookUp("a", libraryVersionIDs: []) == .found(Self.version("a")))
        #expect(resolver.lookUp("b", libraryVersionIDs: ["lv1"]) == .unavailable("store down"), "unavailable is an answer: never fall through to an older copy")
        #expect(resolver.lookUp("c", libraryVersionIDs: []) == .invalid("no code"))
        #expect(first.asked.map(\.idOrName) == ["a", "b", "c"])
        #expect(second.asked.map(\.idOrName) == ["b", "c"])
        #expect(third.asked.isEmpty)
        #expect(second.asked.first?.libraryVersionIDs == ["lv1"], "every source gets the library ids")
    }

    @Test func notFoundEverywhereIsTheLastSourcesNotFound() {
        let resolver = ChainedVersionSources([FixedSource([:]), FixedSource(["x": .notFound("Library version lv9 not found")])])
        #expect(resolver.lookUp("x", libraryVersionIDs: ["lv9"]) == .notFound("Library version lv9 not found"))
        #expect(resolver.lookUp("y", libraryVersionIDs: []) == .notFound("y is not in this source"))
        #expect(ChainedVersionSources([]).lookUp("z", libraryVersionIDs: []) == .missing("z"))
    }

    @Test func theObserverHearsEachSourcesAnswerInOrder() {
        let first = FixedSource([:])
        let second = FixedSource(["a": .unavailable("timeout")])
        let heard = HeardLookups()
        let resolver = ChainedVersionSources([first, second, FixedSource([:])]) { source, lookup in
            let asked = source as? FixedSource
            heard.append(asked === first ? "first" : asked === second ? "second" : "third", lookup)
        }
        _ = resolver.lookUp("a", libraryVersionIDs: [])
        #expect(heard.entries.map(\.source) == ["first", "second"])
        #expect(heard.entries.map(\.lookup) == [.notFound("a is not in this source"), .unavailable("timeout")])
    }
}

/// What an observer heard.
final class HeardLookups: @unchecked Sendable {
    // @unchecked: guarded by `lock`.
    private let lock = NSLock()
    private var heard: [(source: String, lookup: VersionLookup)] = []
    func append(_ source: String, _ lookup: VersionLookup) { lock.withLock { heard.append((source, lookup)) } }
    var entries: [(source: String, lookup: VersionLookup)] { lock.withLock { heard } }
}
