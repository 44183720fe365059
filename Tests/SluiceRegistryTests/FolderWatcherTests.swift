import Foundation
import SluiceCore
import SluiceRegistry
import SluiceTestSupport
import Testing

/// The inotify watcher on real folders: what editors and tools do to files, and what it reports.
@Suite struct FolderWatcherTests {
    /// `watcher.next(quietPeriod:)`, stopped after `seconds` if nothing comes (a failing test must
    /// not hang).
    func next(_ watcher: FolderWatcher, quietPeriod: Duration = .milliseconds(150), seconds: Double = 5) -> FolderWatcher.Changes? {
        let guardTimer = DispatchWorkItem { watcher.stop() }
        DispatchQueue.global().asyncAfter(deadline: .now() + seconds, execute: guardTimer)
        defer { guardTimer.cancel() }
        return watcher.next(quietPeriod: quietPeriod)
    }

    func write(_ text: String, to path: String) throws {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
    }

    @Test func aFileWrittenInPlaceIsOneChangeNamedByItsAbsolutePath() throws {
        let root = try TemporaryFolder.create(["t/transform.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root + "/t"])
        try write("2", to: root + "/t/transform.js")
        #expect(next(watcher) == FolderWatcher.Changes(paths: [root + "/t/transform.js"]))
    }

    @Test func anEditorsRenameOnSaveIsSeenAndItsScratchFilesAreNot() throws {
        let root = try TemporaryFolder.create(["t/transform.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root + "/t"])
        // vim: a probe file, the original renamed to a backup, a new file written, the backup removed.
        let file = root + "/t/transform.js"
        try write("", to: root + "/t/4913")
        try FileManager.default.removeItem(atPath: root + "/t/4913")
        try FileManager.default.moveItem(atPath: file, toPath: file + "~")
        try write("2", to: file)
        try FileManager.default.removeItem(atPath: file + "~")
        // Others: a hidden temporary file renamed over the original.
        try write("3", to: root + "/t/.transform.js.tmp")
        try FileManager.default.removeItem(atPath: file)
        try FileManager.default.moveItem(atPath: root + "/t/.transform.js.tmp", toPath: file)
        #expect(next(watcher) == FolderWatcher.Changes(paths: [file]))
    }

    @Test func aWatchedFileIsWatchedThroughItsFolderByName() throws {
        let root = try TemporaryFolder.create(["input.ndjson": "{}", "other.ndjson": "{}"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root + "/input.ndjson"])
        try write("{} {}", to: root + "/other.ndjson")
        try write("[]", to: root + "/input.tmp")
        try FileManager.default.removeItem(atPath: root + "/input.ndjson")
        try FileManager.default.moveItem(atPath: root + "/input.tmp", toPath: root + "/input.ndjson")
        #expect(next(watcher) == FolderWatcher.Changes(paths: [root + "/input.ndjson"]))
    }

    @Test func newSubfoldersAreWatchedAndWhatTheyHoldAlreadyCounts() throws {
        let root = try TemporaryFolder.create(["transformations/a/transform.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root + "/transformations"])
        // Created faster than a watch can be added on the new folders.
        try TemporaryFolder.write(["transformations/b/tests/sample/input.ndjson": "{}"], under: root)
        let first = try #require(next(watcher))
        #expect(first.paths.contains(root + "/transformations/b/tests/sample/input.ndjson"))
        #expect(first.paths.allSatisfy { $0.hasPrefix(root + "/transformations/b") })
        // The new folders are watched from now on.
        try write("{} {}", to: root + "/transformations/b/tests/sample/input.ndjson")
        #expect(next(watcher) == FolderWatcher.Changes(paths: [root + "/transformations/b/tests/sample/input.ndjson"]))
    }

    @Test func hiddenFoldersAreNotWatched() throws {
        let root = try TemporaryFolder.create([".git/HEAD": "x", "a.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root])
        try write("y", to: root + "/.git/HEAD")
        try TemporaryFolder.write([".cache/x/y": "z"], under: root)
        try write("2", to: root + "/a.js")
        #expect(next(watcher) == FolderWatcher.Changes(paths: [root + "/a.js"]))
    }

    @Test func aWatchedFolderThatDoesNotExistYetIsSeenWhenCreated() throws {
        let root = try TemporaryFolder.create(["transformations/a/transform.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root + "/libraries"])
        try TemporaryFolder.write(["libraries/hashing.js": "export const x = 1;"], under: root)
        let first = try #require(next(watcher))
        #expect(first.paths == [root + "/libraries", root + "/libraries/hashing.js"])
        try write("export const x = 2;", to: root + "/libraries/hashing.js")
        #expect(next(watcher) == FolderWatcher.Changes(paths: [root + "/libraries/hashing.js"]))
    }

    @Test func changesCloseTogetherAreOneBurstAndALaterOneIsTheNext() throws {
        let root = try TemporaryFolder.create(["a.js": "1", "b.js": "1", "c.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root])
        let writer = Thread {
            for name in ["a.js", "b.js", "c.js"] {
                try? Data("2".utf8).write(to: URL(fileURLWithPath: root + "/" + name))
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
        writer.start()
        let started = ContinuousClock.now
        #expect(next(watcher, quietPeriod: .milliseconds(400)) == FolderWatcher.Changes(paths: [root + "/a.js", root + "/b.js", root + "/c.js"]))
        // It waited for the quiet period after the last write.
        #expect(ContinuousClock.now - started >= .milliseconds(450))
        try write("3", to: root + "/b.js")
        #expect(next(watcher) == FolderWatcher.Changes(paths: [root + "/b.js"]))
    }

    @Test func stopEndsAWaitFromAnotherThread() throws {
        let root = try TemporaryFolder.create(["a.js": "1"])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let watcher = try FolderWatcher(paths: [root])
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.1) { watcher.stop() }
        let started = ContinuousClock.now
        #expect(watcher.next() == nil)
        #expect(ContinuousClock.now - started < .seconds(3))
    }

    @Test func scratchFileNames() {
        for name in [".transform.js.swp", "transform.js~", "transform.js.swp", "x.swx", "x.tmp", "4913", ".#transform.js"] {
            #expect(FolderWatcher.isScratchFile(name), "\(name)")
        }
        for name in ["transform.js", "expected.ndjson", "case.json", "4914"] {
            #expect(!FolderWatcher.isScratchFile(name), "\(name)")
        }
    }
}

/// What a transformation depends on, for `--watch`.
@Suite struct TransformationDependenciesTests {
    @Test func theLibraryFilesItsImportsConsultFoundOrNotAndThroughOtherLibraries() throws {
        let root = try TemporaryFolder.create([
            "transformations/t/transform.js": #"import { a } from "outer"; import { m } from "missing"; export function transformEvent(e) { return e; }"#,
            "libraries/outer.js": #"import { b } from "inner"; export const a = b;"#,
            "libraries/inner/index.js": "export const b = 1;",
            "libraries/unused.js": "export const c = 1;",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dependencies = TransformationDependencies(transformation: root + "/transformations/t", libraryRoot: root + "/libraries", languages: languages)
        #expect(!dependencies.isUnreadable)
        #expect(dependencies.libraryFiles.contains(root + "/libraries/outer.js"))
        #expect(dependencies.libraryFiles.contains(root + "/libraries/inner/index.js"))
        #expect(dependencies.libraryFiles.contains(root + "/libraries/missing.js"))
        #expect(!dependencies.libraryFiles.contains(root + "/libraries/unused.js"))
        #expect(dependencies.isAffected(by: root + "/transformations/t/transform.js"))
        #expect(dependencies.isAffected(by: root + "/libraries/inner/index.js"))
        #expect(dependencies.isAffected(by: root + "/libraries/inner"))  // the folder removed
        #expect(dependencies.isAffected(by: root + "/libraries/missing.js"))  // created: it may fix the import
        #expect(!dependencies.isAffected(by: root + "/libraries/unused.js"))
        #expect(!dependencies.isAffected(by: root + "/transformations/other/transform.js"))
        #expect(!dependencies.isAffected(by: root + "/transformations/t2"))
    }

    @Test func pythonImportsConsultPythonFiles() throws {
        let root = try TemporaryFolder.create([
            "t.py": "from hashing import sha\ndef transformEvent(e, m):\n    return e\n",
            "libraries/hashing.py": "def sha(x):\n    return x\n",
            "libraries/hashing.js": "export const sha = 1;",
        ])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dependencies = TransformationDependencies(transformation: root + "/t.py", libraryRoot: root + "/libraries", languages: languages)
        #expect(dependencies.isAffected(by: root + "/libraries/hashing.py"))
        #expect(!dependencies.isAffected(by: root + "/libraries/hashing.js"))
        #expect(dependencies.isAffected(by: root + "/t.py"))
        #expect(!dependencies.isAffected(by: root + "/t.pyc"))
    }

    @Test func anUnreadableTransformationDependsOnTheWholeLibraryFolder() throws {
        let root = try TemporaryFolder.create(["transformations/t/transformation.json": "{ not json", "libraries/x.js": ""])
        defer { try? FileManager.default.removeItem(atPath: root) }
        let dependencies = TransformationDependencies(transformation: root + "/transformations/t", libraryRoot: root + "/libraries", languages: languages)
        #expect(dependencies.isUnreadable)
        #expect(dependencies.isAffected(by: root + "/libraries/anything.js"))
    }
}
