import Foundation
import SluiceRegistry
import Testing

/// rudder-transformer imports a library by lodash's `camelCase` of its name; one letter off and
/// every event fails with "Module not found". The table was produced by running lodash 4.17.21
/// itself (Debian's node-lodash) on each name: `Tests/Fixtures/lodash-camelcase.json`.
@Suite struct CamelCase {
    struct Case: Decodable, CustomTestStringConvertible {
        var input: String
        var output: String
        var testDescription: String { input.debugDescription }
    }

    static let cases: [Case] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/lodash-camelcase.json")
        return (try? JSONDecoder().decode([Case].self, from: Data(contentsOf: url))) ?? []
    }()

    @Test func theTableIsThere() {
        #expect(Self.cases.count >= 300)
    }

    @Test(arguments: cases)
    func asLodashDoesIt(_ testCase: Case) {
        // Compared as scalars: Swift's == would take a decomposed result for its precomposed twin.
        let result = RudderProject.camelCase(testCase.input)
        #expect(Array(result.unicodeScalars) == Array(testCase.output.unicodeScalars), "\(testCase.input.debugDescription) → \(result.debugDescription), lodash: \(testCase.output.debugDescription)")
    }

    @Test func theNamesTheIssueNames() {
        #expect(RudderProject.camelCase("addLib") == "addLib")
        #expect(RudderProject.camelCase("UAParser") == "uaParser")
        #expect(RudderProject.camelCase("my-lib v2") == "myLibV2")
        #expect(RudderProject.camelCase("XMLHttpRequest") == "xmlHttpRequest")
    }
}
