import Foundation
import SluiceCore
import SluiceRegistry
import SluiceRuntime

/// One case of a suite: a snapshot case, or a RudderStack CLI project's test case (with the
/// project folder it was found in).
public enum SuiteCase: Sendable {
    case snapshot(SnapshotCase)
    case rudder(RudderCase, project: String)

    /// `<transformation>/<case>` (RudderStack: `<transformation id>/<suite>/<file>`).
    public var id: String {
        switch self {
        case .snapshot(let snapshot): snapshot.id
        case .rudder(let rudderCase, _): rudderCase.id
        }
    }

    /// Runs the case with `runner`.
    public func run(with runner: SnapshotRunner) -> CaseReport {
        switch self {
        case .snapshot(let snapshot): runner.run(snapshot)
        case .rudder(let rudderCase, _): runner.run(rudderCase)
        }
    }
}

/// The cases below some paths (`sluice test [PATH…] [--filter TEXT]`), and, for
/// `sluice test --watch`, which of them a burst of changed files affects and how the whole suite
/// stands:
///
/// - a file in a case's folder affects that case;
/// - any other file of a transformation's folder, or a library file its imports consult
///   (``TransformationDependencies``: a library change affects the transformations importing
///   it), affects every case of the transformation;
/// - a file of a RudderStack CLI project affects the project's cases;
/// - a case that was not there before (a new case folder, a new transformation) runs;
/// - an expectation the harness itself just recorded is not a change.
public final class SnapshotSuite {
    /// The paths the cases are found below, as given.
    public let paths: [String]
    /// Only cases whose id contains this text.
    public let filter: String?
    /// The cases, sorted by id (snapshot cases, then RudderStack CLI cases), as last discovered.
    public private(set) var cases: [SuiteCase] = []
    private var latest: [String: CaseReport] = [:]
    private var ownWrites: Set<String> = []

    /// Finds the cases below `paths` (a case folder, a transformation folder, or a folder of
    /// transformations; see ``CaseDiscovery``) whose id contains `filter`.
    public init(paths: [String], filter: String? = nil) throws {
        self.paths = paths
        self.filter = filter
        try discover()
    }

    /// The paths `sluice test` looks in when it is given none, in `directory`: `transformations`
    /// when there is such a folder; else the folder itself when it is a transformation folder (it
    /// has a `transformation.json`, or snapshot cases), a case folder, a RudderStack CLI project or
    /// a folder of transformations with cases; else `transformations` (which then does not exist,
    /// and the error says so).
    public static func defaultPaths(in directory: String) -> [String] {
        let folder = FolderWatcher.absolute(directory)
        if CaseDiscovery.isDirectory(folder + "/transformations") { return ["transformations"] }
        let isTransformation = FileManager.default.fileExists(atPath: folder + "/" + TransformationManifest.fileName)
        if isTransformation || RudderProject.exists(at: folder) || !((try? CaseDiscovery.cases(in: [folder])) ?? []).isEmpty {
            return ["."]
        }
        return ["transformations"]
    }

    /// Finds the cases again (new case folders and transformations appear, removed ones go).
    public func discover() throws {
        var found = try CaseDiscovery.cases(in: paths).map(SuiteCase.snapshot)
        for path in paths {
            found += try RudderCase.discover(in: [path]).map { SuiteCase.rudder($0, project: FolderWatcher.absolute(path)) }
        }
        if let filter { found = found.filter { $0.id.contains(filter) } }
        cases = found
        latest = latest.filter { id, _ in found.contains { $0.id == id } }
    }

    /// The folders and files whose changes can affect the cases: the paths searched (new cases
    /// appear there) and the library folder of each transformation.
    public var watchedPaths: [String] {
        var result = paths.map(FolderWatcher.absolute)
        for suiteCase in cases {
            if case .snapshot(let snapshot) = suiteCase {
                result.append(FolderWatcher.absolute(snapshot.transformationDirectory))
                result.append(FolderWatcher.absolute(LibraryDirectory.nearestRoot(to: snapshot.transformationDirectory)))
            }
        }
        var seen = Set<String>()
        return result.filter { seen.insert($0).inserted }
    }

    /// The cases `changes` affect, in suite order, after finding the cases again; every case when
    /// the watcher lost events.
    public func affected(by changes: FolderWatcher.Changes, languages: LanguageTable) throws -> [SuiteCase] {
        let paths = changes.paths.subtracting(ownWrites)
        ownWrites = []
        let known = Set(cases.map(\.id))
        try discover()
        if changes.overflowed { return cases }
        guard !paths.isEmpty else { return cases.filter { !known.contains($0.id) } }
        var dependencies: [String: TransformationDependencies] = [:]
        return cases.filter { suiteCase in
            if !known.contains(suiteCase.id) { return true }
            switch suiteCase {
            case .rudder(_, let project):
                return paths.contains { TransformationDependencies.overlaps($0, project) }
            case .snapshot(let snapshot):
                let caseFolder = FolderWatcher.absolute(snapshot.directory)
                let tests = FolderWatcher.absolute(TransformationManifest.testsFolder(of: snapshot.transformationDirectory))
                let transformation = dependencies[tests] ?? TransformationDependencies(
                    transformation: snapshot.transformationDirectory,
                    libraryRoot: LibraryDirectory.nearestRoot(to: snapshot.transformationDirectory), languages: languages)
                dependencies[tests] = transformation
                return paths.contains { path in
                    // The tests folder holds every case: a file there affects only its own case.
                    if path == tests || path.hasPrefix(tests + "/") { return TransformationDependencies.overlaps(path, caseFolder) }
                    return transformation.isAffected(by: path)
                }
            }
        }
    }

    /// Keeps `reports` as the cases' latest results (for ``summary``) and notes the expectations
    /// the runner recorded, so that the watcher seeing them written does not count as a change.
    public func record(_ reports: [CaseReport]) {
        for report in reports {
            latest[report.id] = report
            guard report.status == .recorded || report.status == .updated else { continue }
            for case .snapshot(let snapshot) in cases where snapshot.id == report.id {
                ownWrites.insert(FolderWatcher.absolute(snapshot.expectedPath))
            }
        }
    }

    /// The latest report of every case that has run, in suite order.
    public var latestReports: [CaseReport] { cases.compactMap { latest[$0.id] } }
}
