import Foundation
import SluiceRuntime
import SluiceTesting
import SluiceTestSupport
import Testing

/// The shipped transformations' own snapshot cases (`transformations/*/tests/*`, and the
/// RudderStack CLI project's), run as `sluice test` runs them — on the engines of this process,
/// never recording an expectation.
@Suite struct ShippedSnapshots {
    /// `transformations/` of the repository.
    static let transformations = PackageRoot.path + "/transformations"

    static let snapshots: [SnapshotCase] = {
        // As `sluice test` does: local time must not depend on the machine.
        setenv("TZ", "UTC", 1)
        return (try? CaseDiscovery.cases(in: [transformations])) ?? []
    }()

    static let rudderCases: [RudderCase] = (try? RudderCase.discover(in: [transformations])) ?? []

    /// One set of engines for every case.
    static let executor = InProcessExecutor()

    static func runner() -> SnapshotRunner {
        SnapshotRunner(update: false, recordMissing: false, executor: executor)
    }

    @Test(arguments: snapshots)
    func snapshotCasePasses(_ snapshot: SnapshotCase) {
        let report = Self.runner().run(snapshot)
        #expect(report.status == .passed, "\(Reports.text(report, colour: false))")
    }

    @Test(arguments: rudderCases)
    func rudderCLICasePasses(_ rudderCase: RudderCase) {
        let report = Self.runner().run(rudderCase)
        #expect(report.status == .passed, "\(Reports.text(report, colour: false))")
    }

    /// Every folder below a transformation's `tests/` is a case that runs: a folder whose input
    /// file is misnamed would otherwise be skipped without a word.
    @Test func everyCaseFolderIsDiscovered() throws {
        let manager = FileManager.default
        var folders: Set<String> = []
        for transformation in try manager.contentsOfDirectory(atPath: Self.transformations) {
            let tests = Self.transformations + "/" + transformation + "/tests"
            guard manager.fileExists(atPath: tests + "/input") == false,
                  let names = try? manager.contentsOfDirectory(atPath: tests) else { continue }  // a RudderStack CLI suite
            for name in names { folders.insert(tests + "/" + name) }
        }
        #expect(Set(Self.snapshots.map(\.directory)) == folders)
        #expect(Self.snapshots.count >= 80)
        #expect(Self.rudderCases.count >= 2)
    }
}

extension SnapshotCase: CustomTestStringConvertible {
    public var testDescription: String { id }
}

extension RudderCase: CustomTestStringConvertible {
    public var testDescription: String { id }
}
