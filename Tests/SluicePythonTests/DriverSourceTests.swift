import Foundation
@testable import SluicePython
import Testing

/// The driver the interpreter runs is the files of Sources/SluicePython/Driver, each once.
@Suite struct PythonDriverSource {
    @Test func joinsEveryDriverFileOnce() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../Sources/SluicePython/Driver").standardizedFileURL
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".py") }.sorted()
        let files = try names.map { Array(try Data(contentsOf: folder.appendingPathComponent($0))) }
        #expect(files.count == DriverSource.parts.count, "Driver/ has \(names), DriverSource.parts \(DriverSource.parts.count) parts")
        for (name, file) in zip(names, files) {
            #expect(DriverSource.parts.filter { $0 == file }.count == 1, "Driver/\(name) is not joined exactly once, as it is on disk")
        }
        #expect(DriverSource.code == DriverSource.parts.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n\n"))
    }
}
