import Foundation
import SluiceCore
import SluiceTestSupport
import Testing

/// One engine case — a folder `Tests/Cases/<category>/<case>/` (Tests/Cases/README.md) — in one of
/// the ways it runs: in JavaScript, in JavaScript with the entry point made `async`, or in Python.
struct EngineCase: Sendable, CustomTestStringConvertible {
    /// How the case's code runs.
    enum Variant: String, Sendable {
        case javascript
        /// `transform.js` with the entry point made async (``EngineCase/madeAsync(_:)``).
        case javascriptAsync = "javascript async"
        case python

        var language: Language { self == .python ? .python : .javascript }
    }

    /// The case folder.
    var directory: String
    /// `<category>/<case>`.
    var id: String
    var variant: Variant

    var testDescription: String { "\(id) (\(variant.rawValue))" }

    /// `transform.js` or `transform.py`.
    var sourceFileName: String { "transform.\(variant.language.fileExtension)" }
    /// Python's own expectation when it has one, else the shared one.
    var expectedPath: String {
        let python = directory + "/" + Self.pythonExpectedFileName
        if variant == .python, FileManager.default.fileExists(atPath: python) { return python }
        return directory + "/" + Self.expectedFileName
    }

    static let expectedFileName = "expected.ndjson"
    static let pythonExpectedFileName = "expected.python.ndjson"
    static let inputFileName = "input.ndjson"
    static let settingsFileName = "case.json"
    static let librariesFolderName = "libraries"
    /// Known-broken cases: run, and expected to fail until fixed.
    static let fixmeCategory = "fixme"

    /// `Tests/Cases`.
    static let root = PackageRoot.path + "/Tests/Cases"

    /// Every case of every category but `fixme/`, sorted by id.
    static let all: [EngineCase] = discover(categories: { $0 != fixmeCategory })
    /// The cases of `fixme/`.
    static let fixme: [EngineCase] = discover(categories: { $0 == fixmeCategory })

    /// The variants of each case folder (at least one: a folder with neither source file is
    /// reported as a case that fails).
    static func discover(categories include: (String) -> Bool) -> [EngineCase] {
        let manager = FileManager.default
        var found: [EngineCase] = []
        for category in ((try? manager.contentsOfDirectory(atPath: root)) ?? []).sorted() where include(category) {
            let categoryPath = root + "/" + category
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: categoryPath, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            for name in ((try? manager.contentsOfDirectory(atPath: categoryPath)) ?? []).sorted() {
                let directory = categoryPath + "/" + name
                guard manager.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
                let id = category + "/" + name
                var variants: [Variant] = []
                if manager.fileExists(atPath: directory + "/transform.js") {
                    variants.append(.javascript)
                    if (try? options(of: directory))?.asynchronous == true { variants.append(.javascriptAsync) }
                }
                if manager.fileExists(atPath: directory + "/transform.py") { variants.append(.python) }
                // A folder without code still becomes a case, so that it fails instead of vanishing.
                found += (variants.isEmpty ? [.javascript] : variants).map { EngineCase(directory: directory, id: id, variant: $0) }
            }
        }
        return found
    }

    /// The keys of `case.json` only engine cases have (the others are the snapshot harness's
    /// ``CaseSettings``).
    struct Options: Decodable {
        /// Also run `transform.js` with its entry point made async.
        var asynchronous: Bool?

        enum CodingKeys: String, CodingKey {
            case asynchronous = "async"
        }
    }

    static func options(of directory: String) throws -> Options {
        guard let data = FileManager.default.contents(atPath: directory + "/" + settingsFileName) else { return Options() }
        return try JSONDecoder().decode(Options.self, from: data)
    }

    /// `code` with its `export function transformEvent(` or `transformBatch(` made
    /// `export async function …(`, awaiting before anything else (`await null;` first in the
    /// body), so the result really arrives through a promise; nil when there is no such
    /// declaration.
    static func madeAsync(_ code: String) -> String? {
        for entry in ["transformEvent", "transformBatch"] {
            guard let declaration = code.range(of: "export function \(entry)("),
                  let brace = code.range(of: "{", range: declaration.upperBound..<code.endIndex) else { continue }
            return String(code[..<declaration.lowerBound]) + "export async function \(entry)("
                + code[declaration.upperBound..<brace.upperBound] + " await null;" + code[brace.upperBound...]
        }
        return nil
    }
}
