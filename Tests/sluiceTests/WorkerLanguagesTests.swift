import Foundation
import SluiceCore
import SluiceSandbox
import Testing

/// Workers start only the engines of the languages their pool runs (`WorkerPool.Configuration.languages`):
/// a program in another language widens the pool — idle workers are replaced by ones that start it
/// too — and a language no worker can start fails its batches at once, as retryable.
@Suite struct WorkerLanguagesTests {
    /// The pool's events, collected from its observer's thread.
    final class Events: @unchecked Sendable {
        private let lock = NSLock()
        private var events: [WorkerPool.Event] = []
        func add(_ event: WorkerPool.Event) { lock.withLock { events.append(event) } }
        var widened: [[Language]] {
            lock.withLock { events.compactMap { if case .widened(_, _, let languages) = $0 { languages } else { nil } } }
        }
    }

    func echo(_ language: Language, on pool: WorkerPool) -> [String] {
        let code = language == .javascript
            ? "export function transformEvent(event) { return { seen: event.n, by: 'js' }; }"
            : "def transformEvent(event, metadata):\n    return {'seen': event['n'], 'by': 'py'}\n"
        return describe(runPoisoned(code, language, events: [#"{"n":7}"#], id: "echo-\(language.rawValue)", pool: pool))
    }

    @Test func aJavaScriptPoolStartsAWorkerWithPythonForThePythonBatchAndKeepsServingJavaScript() throws {
        let events = Events()
        var configuration = WorkerPool.Configuration()
        configuration.executable = sluiceBinary.path
        configuration.count = 1
        configuration.languages = [.javascript]
        let pool = try WorkerPool(configuration: configuration) { events.add($0) }
        defer { pool.shutdown() }
        #expect(echo(.javascript, on: pool) == [#"0 output {"seen":7,"by":"js"} m0"#])
        let javascriptOnly = pool.pids
        #expect(events.widened.isEmpty)

        #expect(echo(.python, on: pool) == [#"0 output {"seen":7,"by":"py"} m0"#])
        #expect(events.widened == [[.javascript, .python]])
        #expect(pool.pids != javascriptOnly, "the JavaScript-only worker gave its place to one with both engines")
        #expect(pool.status.replacements == 0, "widening is not counted as replacing a lost worker")
        // Both languages now run on the same worker, without another widening.
        let widenedWorker = pool.pids
        #expect(echo(.javascript, on: pool) == [#"0 output {"seen":7,"by":"js"} m0"#])
        #expect(echo(.python, on: pool) == [#"0 output {"seen":7,"by":"py"} m0"#])
        #expect(pool.pids == widenedWorker)
        #expect(events.widened.count == 1)
    }

    @Test func aLanguageNoWorkerCanStartFailsItsBatchAtOnceAsRetryable() throws {
        // A worker executable that cannot start Python: a wrapper that exits when asked for it.
        var configuration = WorkerPool.Configuration()
        configuration.executable = "/bin/sh"
        configuration.arguments = ["-c", #"case "$2" in *python*) exit 3;; esac; exec "$0" worker "$@""#, sluiceBinary.path]
        configuration.count = 1
        configuration.spares = 0
        configuration.checkoutTimeout = .seconds(60)
        let pool = try WorkerPool(configuration: configuration)
        defer { pool.shutdown() }
        #expect(echo(.javascript, on: pool) == [#"0 output {"seen":7,"by":"js"} m0"#])
        let begin = ContinuousClock.now
        let execution = runPoisoned("def transformEvent(event, metadata):\n    return event\n", .python, events: [#"{"n":1}"#], pool: pool)
        let failure = try #require(execution.failure)
        #expect(failure.kind == .unavailable)
        #expect(failure.message.contains("no worker process with the python engine could start"), "\(failure.message)")
        #expect(failure.message.contains("exit status 3"), "\(failure.message)")
        // Not after the checkout timeout: the start failure answers the batch.
        #expect(ContinuousClock.now - begin < .seconds(30))
        // The JavaScript worker still serves.
        #expect(echo(.javascript, on: pool) == [#"0 output {"seen":7,"by":"js"} m0"#])
    }
}
