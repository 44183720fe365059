import Foundation
import SluiceBenchmarks

/// `sluice bench --workers-memory N`: the table of an idle worker's memory per set of engines.
extension BenchCommand {
    func benchWorkersMemory(workers: Int) throws {
        let result = try WorkerMemoryBenchmark(workers: workers).run()
        if json {
            func footprint(_ value: WorkerMemoryBenchmark.Footprint?) -> Any {
                guard let value else { return NSNull() }
                return ["residentKiB": value.resident, "proportionalKiB": value.proportional.map { $0 as Any } ?? NSNull(),
                        "anonymousKiB": value.anonymous, "fileKiB": value.file]
            }
            let rows: [[String: Any]] = result.rows.map { row in
                ["languages": row.languages.map(\.rawValue), "workers": row.workers, "startMilliseconds": row.starts,
                 "idle": footprint(row.idle), "afterBatch": footprint(row.afterBatch)]
            }
            let object: [String: Any] = ["rows": rows, "firstPythonBatchOnJavaScriptPoolMilliseconds": result.widening.map { $0 as Any } ?? NSNull()]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
            print(String(decoding: data, as: UTF8.self))
            return
        }
        func megabytes(_ kibibytes: Int?) -> String { kibibytes.map { String(format: "%.1f", Double($0) / 1024) } ?? "?" }
        func cells(_ value: WorkerMemoryBenchmark.Footprint?) -> String {
            guard let value else { return String(repeating: " ", count: 28) + "-" }
            return [value.resident, value.proportional, value.anonymous, value.file].map { megabytes($0).leftPadded(7) }.joined()
        }
        print("sluice bench --workers-memory \(workers): \(workers) idle worker processes per row (medians, MB); PSS shares each")
        print("file page among the processes that map it (this one, the workers, any other sluice), so it is what one more worker costs")
        print("")
        let columns = ["RSS", "PSS", "anon", "file"].map { $0.leftPadded(7) }.joined()
        print(String(repeating: " ", count: 31) + " | " + "idle".padding(toLength: 28, withPad: " ", startingAt: 0) + " | after a batch")
        print("engines".padding(toLength: 22, withPad: " ", startingAt: 0) + "start ms".leftPadded(9) + " | " + columns + " | " + columns)
        for row in result.rows {
            let name = row.languages.isEmpty ? "none (the process)" : row.languages.map(\.rawValue).joined(separator: "+")
            let starts = row.starts.sorted()
            let start = starts.isEmpty ? "?" : String(format: "%.0f", starts[starts.count / 2])
            print(name.padding(toLength: 22, withPad: " ", startingAt: 0) + start.leftPadded(9) + " | " + cells(row.idle) + " | " + cells(row.afterBatch))
        }
        if let widening = result.widening {
            print("")
            print(String(format: "first Python batch on a JavaScript-only pool of one worker: %.0f ms (a worker with both engines is started for it)", widening))
        }
    }
}

private extension String {
    /// The string right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
