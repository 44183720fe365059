import Foundation
import SluiceCore
import SluiceSandbox
import Testing

/// Poison events in worker processes: a call the engines cannot interrupt, or one that kills its
/// worker, costs only its own result. Innocent events around it keep their normal results, the
/// guilty one gets its terminal error, and the next batch is served. Each test is bounded: the
/// limits are small and every poison costs at most its limit plus the monitor's grace (2 s).
let poisonLimits = Limits(timeMilliseconds: 200, memoryMegabytes: 64)

/// One worker (and its spare), as `sluice serve --workers 1` has.
let poisonPool: WorkerPool = {
    var configuration = WorkerPool.Configuration()
    configuration.executable = sluiceBinary.path
    configuration.count = 1
    configuration.languages = Set(Language.allCases)  // as a pool that has run both
    return try! WorkerPool(configuration: configuration)
}()

func runPoisoned(_ code: String, _ language: Language, events: [String], id: String? = nil, pool: WorkerPool = poisonPool) -> Execution {
    let source = TransformationSource(name: "poison", language: language, fileName: "poison.\(language.fileExtension)", code: code)
    let program = Program(id: id ?? "poison-\(abs(code.hashValue))", source: source, libraries: [])
    let items = events.enumerated().map { index, event in
        Array(#"{"message":\#(event),"metadata":{"messageId":"m\#(index)","sourceId":"s","destinationId":"d"}}"#.utf8)
    }
    return pool.run(program, batch: Batch(items: items), limits: poisonLimits)
}

/// `index outcome detail metadata.messageId` per result.
func describe(_ execution: Execution) -> [String] {
    guard case .ran(let result) = execution else { return ["\(execution)"] }
    return result.results.map { eventResult in
        let messageId = (try? JSONSerialization.jsonObject(with: Data(eventResult.metadata)) as? [String: Any])?["messageId"] as? String ?? "-"
        let index = eventResult.inputIndex.map(String.init) ?? "-"
        switch eventResult.outcome {
        case .output(let json): return "\(index) output \(String(decoding: json, as: UTF8.self)) \(messageId)"
        case .dropped: return "\(index) dropped \(messageId)"
        case .failed(let failure): return "\(index) \(failure.kind.name) \(failure.message) \(messageId)"
        }
    }
}

struct PoisonCase: Sendable, CustomTestStringConvertible {
    var name: String
    var language: Language
    /// A transformEvent that returns `{"n": …, "ok": true}` for innocent events and misbehaves on `{"poison": true}`.
    var code: String
    var testDescription: String { name }
}

let poisonCases = [
    PoisonCase(name: "js: a loop of promise jobs", language: .javascript, code: """
        export async function transformEvent(e) { if (e.poison) { for (;;) { await 0; } } return { n: e.n, ok: true }; }
        """),
    PoisonCase(name: "js: a loop of promise jobs left running after the call returned", language: .javascript, code: """
        export function transformEvent(e) {
          if (e.poison) { (async () => { for (;;) { await 0; } })(); }
          return { n: e.n, ok: true };
        }
        """),
    PoisonCase(name: "py: a long C call", language: .python, code: """
        def transformEvent(e, m):
            if e.get('poison'):
                return {'s': sum(range(10**12))}
            return {'n': e['n'], 'ok': True}
        """),
    PoisonCase(name: "py: a long C call inside a library-style helper", language: .python, code: """
        def spin():
            return max(range(10**12))
        def transformEvent(e, m):
            if e.get('poison'):
                spin()
            return {'n': e['n'], 'ok': True}
        """),
]

@Suite(.serialized) struct PoisonEvents {
    @Test(arguments: poisonCases)
    func onlyTheGuiltyEventFailsAndTheOthersKeepTheirResults(_ poison: PoisonCase) throws {
        let started = Date()
        let replacements = poisonPool.status.replacements
        let execution = runPoisoned(poison.code, poison.language, events: [#"{"n":0}"#, #"{"n":1}"#, #"{"poison":true,"n":2}"#, #"{"n":3}"#, #"{"n":4}"#])
        #expect(describe(execution) == [
            #"0 output {"n":0,"ok":true} m0"#,
            #"1 output {"n":1,"ok":true} m1"#,
            "2 time_limit time limit of 200 ms exceeded m2",
            #"3 output {"n":3,"ok":true} m3"#,
            #"4 output {"n":4,"ok":true} m4"#,
        ])
        if case .ran(let result) = execution { #expect(result.workerEndings == 1) }
        // The poison cost its limit plus the monitor's grace, and one worker.
        #expect(Date().timeIntervalSince(started) < 60)
        #expect(poisonPool.status.replacements > replacements)
        // The next batch is served.
        let next = runPoisoned(poison.code, poison.language, events: [#"{"n":7}"#])
        #expect(describe(next) == [#"0 output {"n":7,"ok":true} m0"#])
    }

    @Test func resultsFinishedBeforeThePoisonAreKeptNotRunAgain() throws {
        // Slow innocent events (their results stream to the server while the batch runs), then
        // the poison: the innocent ones log once each — they ran once.
        let code = """
            export async function transformEvent(e) {
              const end = Date.now() + 30; while (Date.now() < end) {}
              log('ran ' + e.n);
              if (e.poison) { for (;;) { await 0; } }
              return { n: e.n };
            }
            """
        let events = (0..<6).map { #"{"n":\#($0)}"# } + [#"{"poison":true,"n":6}"#, #"{"n":7}"#]
        let execution = runPoisoned(code, .javascript, events: events)
        guard case .ran(let result) = execution else {
            Issue.record("expected results, got \(execution)")
            return
        }
        #expect(result.results.map(\.outcome.name) == ["output", "output", "output", "output", "output", "output", "time_limit", "output"])
        let ran = result.logs.map(\.text)
        // Events streamed before the poison ran once; at most the last few before it (finished
        // within the last 20 ms progress interval) ran again on the fresh worker.
        for index in 0..<4 { #expect(ran.filter { $0 == "ran \(index)" }.count == 1, "\(ran)") }
        #expect(ran.contains("ran 7"))
    }

    @Test func aPoisonInTransformBatchFailsTheWholeBatchWithTheLimit() throws {
        let code = "export async function transformBatch(events) { if (events.some((e) => e.poison)) { for (;;) { await 0; } } return events; }"
        let execution = runPoisoned(code, .javascript, events: [#"{"n":0}"#, #"{"poison":true}"#, #"{"n":2}"#])
        #expect(describe(execution) == [
            "0 time_limit time limit of 200 ms exceeded m0",
            "1 time_limit time limit of 200 ms exceeded m1",
            "2 time_limit time limit of 200 ms exceeded m2",
        ])
        let python = runPoisoned("def transformBatch(events, m):\n    return [{'s': sum(range(10**12))}]\n", .python, events: [#"{"n":0}"#, #"{"n":1}"#])
        #expect(describe(python) == ["0 time_limit time limit of 200 ms exceeded m0", "1 time_limit time limit of 200 ms exceeded m1"])
    }

    @Test func aPoisonInTheModulesTopLevelFailsEveryEventWithTheLimit() throws {
        let execution = runPoisoned("(async () => { for (;;) { await 0; } })();\nexport function transformEvent(e) { return e; }",
                                    .javascript, events: [#"{"n":0}"#, #"{"n":1}"#])
        #expect(describe(execution) == ["0 time_limit time limit of 200 ms exceeded m0", "1 time_limit time limit of 200 ms exceeded m1"])
    }

    @Test func severalPoisonsInOneBatchEachCostOnlyThemselves() throws {
        let code = "def transformEvent(e, m):\n    if e.get('poison'):\n        sum(range(10**12))\n    return {'n': e['n']}\n"
        let execution = runPoisoned(code, .python, events: [#"{"poison":true,"n":0}"#, #"{"n":1}"#, #"{"poison":true,"n":2}"#])
        #expect(describe(execution) == [
            "0 time_limit time limit of 200 ms exceeded m0", #"1 output {"n":1} m1"#, "2 time_limit time limit of 200 ms exceeded m2",
        ])
    }
}

/// Deaths the pool did not cause: re-run once to tell the event's fault from the infrastructure's.
@Suite(.serialized) struct WorkerDeaths {
    /// Kills, from outside, the worker running the batch once it has been in its place for 0.3 s
    /// and computing (5 ticks of CPU since), `times` times, while `work` runs — each time in the
    /// slow call, which needs about a second of CPU. Plain threads, no Swift concurrency: on two
    /// cores the cooperative pool can be busy with other suites' blocking work for seconds.
    static func killingBusyWorkers(of pool: WorkerPool, times: Int, during work: @escaping @Sendable () -> Execution) -> (Execution, killed: Int) {
        let done = BoundedQueue<UncheckedBox<Execution>>(capacity: 1)
        startThread { done.push(UncheckedBox(work())) }
        var killed = 0
        var seen: [Int32: (at: Date, ticks: Int)] = [:]
        let deadline = Date().addingTimeInterval(120)
        while killed < times, Date() < deadline {
            usleep(20_000)
            for pid in pool.pids {
                let ticks = ServeCommand.cpuTicks(pid)
                guard let first = seen[pid] else {
                    seen[pid] = (Date(), ticks)
                    continue
                }
                if first.ticks >= 0, Date().timeIntervalSince(first.at) >= 0.3, ticks - first.ticks >= 5 {
                    kill(pid, SIGKILL)
                    killed += 1
                    seen[pid] = (first.at, -1)
                }
            }
        }
        return (done.pop().value, killed)
    }

    static func pool() throws -> WorkerPool {
        var configuration = WorkerPool.Configuration()
        configuration.executable = sluiceBinary.path
        configuration.count = 1
        configuration.languages = Set(Language.allCases)
        return try WorkerPool(configuration: configuration)
    }

    /// A transformation whose event n=1 computes for about a second of CPU time (under a loaded
    /// machine's stretched wall clock too, so the killer always finds it in that call); the others
    /// are quick.
    static let slowOne = Program(
        id: "slow-one", source: TransformationSource(name: "slow-one", language: .javascript, fileName: "slow.js", code: """
            export function transformEvent(e) {
              if (e.slow) { let x = 0; for (let i = 0; i < 3e8; i++) { x = (x + i) % 1000003; } }
              return { n: e.n };
            }
            """), libraries: [])

    /// A generous limit: the slow call must never hit it, however loaded the machine is.
    static let limits = Limits(timeMilliseconds: 60_000)

    static let events = [#"{"n":0}"#, #"{"slow":true,"n":1}"#, #"{"n":2}"#].enumerated().map { index, event in
        Array(#"{"message":\#(event),"metadata":{"messageId":"m\#(index)"}}"#.utf8)
    }

    @Test func aWorkerKilledFromOutsideOnceIsRetryable() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let (execution, killed) = Self.killingBusyWorkers(of: pool, times: 1) {
            pool.run(Self.slowOne, batch: Batch(items: Self.events), limits: Self.limits)
        }
        #expect(killed == 1)
        // The re-run passed: the death was not the event's. A retry of the batch fixes it (809).
        guard let failure = execution.failure, failure.kind == .workerLost else {
            Issue.record("expected a retryable loss, got \(describe(execution))")
            return
        }
        #expect(failure.message.contains("SIGKILL"))
        // And the batch then runs.
        #expect(describe(pool.run(Self.slowOne, batch: Batch(items: Self.events), limits: Self.limits))
            == [#"0 output {"n":0} m0"#, #"1 output {"n":1} m1"#, #"2 output {"n":2} m2"#])
    }

    @Test func aDeathThatRepeatsOnTheSameEventIsThatEventsOwnResult() throws {
        let pool = try Self.pool()
        defer { pool.shutdown() }
        let (execution, killed) = Self.killingBusyWorkers(of: pool, times: 2) {
            pool.run(Self.slowOne, batch: Batch(items: Self.events), limits: Self.limits)
        }
        #expect(killed == 2)
        let lines = describe(execution)
        #expect(lines.count == 3)
        #expect(lines.first == #"0 output {"n":0} m0"#)
        #expect(lines.last == #"2 output {"n":2} m2"#)
        #expect(lines.dropFirst().first?.hasPrefix("1 crash the worker process running this event ended (signal 9 (SIGKILL)), and ended again (signal 9 (SIGKILL)) when the event was run once more on a fresh worker") == true, "\(lines)")
        if case .ran(let result) = execution { #expect(result.workerEndings == 1) }
    }
}

/// The service, end to end: the real `sluice serve` with one worker process.
@Suite(.serialized) struct PoisonEventsInTheService {
    @Test func aPoisonEventIsItsOwn400AndTheRequestIs200() async throws {
        let root = try folder([
            "spin/transform.js": "export async function transformEvent(e) { if (e.poison) { for (;;) { await 0; } } e.ok = true; return e; }",
            "spin-py/transform.py": "def transformEvent(e, m):\n    if e.get('poison'):\n        sum(range(10**12))\n    e['ok'] = True\n    return e\n",
        ])
        defer { try? FileManager.default.removeItem(at: root) }
        let server = try ServeCommand.Server(transformations: root, arguments: ["--workers", "1", "--time-limit-ms", "200"])
        for version in ["spin", "spin-py"] {
            let started = Date()
            let response = try await server.post("/customTransform",
                                                 ServeCommand.request(version: version, messages: [#"{"n":1}"#, #"{"poison":true}"#, #"{"n":3}"#]))
            #expect(response.status == 200, "\(version): \(response.body)")
            let items = try #require(try JSONSerialization.jsonObject(with: Data(response.body.utf8)) as? [[String: Any]])
            #expect(items.map { $0["statusCode"] as? Int } == [200, 400, 200], "\(version)")
            #expect(items[1]["error"] as? String == "time limit of 200 ms exceeded")
            #expect(items.compactMap { ($0["metadata"] as? [String: Any])?["messageId"] as? String } == ["m0", "m1", "m2"])
            #expect(Date().timeIntervalSince(started) < 60, "a poison costs its limit, the grace and a worker start: bounded even on a loaded machine")
            // The next request is served.
            let next = try await server.post("/customTransform", ServeCommand.request(version: version, messages: [#"{"n":4}"#]))
            #expect(next.status == 200 && next.body.contains(#""ok":true"#))
        }
        let metrics = try await server.get("/metrics")
        #expect(metrics.body.contains("sluice_poison_events_total{version=\"sv"))
        #expect(server.stop() == 0)
    }

    @Test func noWorkerOutlivesItsServerEvenOneSpinningInUserCode() async throws {
        let root = try folder(["spin/transform.js": "export async function transformEvent(e) { for (;;) { await 0; } }"])
        defer { try? FileManager.default.removeItem(at: root) }
        for signal in [SIGKILL, SIGTERM] {
            // A long limit: only the server's end can end this worker.
            let server = try ServeCommand.Server(transformations: root, arguments: ["--workers", "1", "--time-limit-ms", "60000", "--shutdown-grace-ms", "300"])
            let pid = server.process.processIdentifier
            Task { _ = try? await server.post("/customTransform", ServeCommand.request(version: "spin", messages: ["{}"])) }
            // Wait until a worker spins.
            let workers = ServeCommand.workerPids(of: pid)
            let before = Dictionary(uniqueKeysWithValues: workers.map { ($0, ServeCommand.cpuTicks($0)) })
            var spinning: Int32?
            for _ in 0..<250 where spinning == nil {
                try await Task.sleep(for: .milliseconds(20))
                spinning = workers.first { ServeCommand.cpuTicks($0) - before[$0, default: 0] >= 20 }
            }
            let worker = try #require(spinning, "no worker took the request")
            let stopped = Date()
            kill(pid, signal)
            server.process.waitUntilExit()
            // SIGTERM: requests in flight get the shutdown grace, then the worker is stopped.
            #expect(Date().timeIntervalSince(stopped) < 15)
            var gone = false
            for _ in 0..<100 where !gone {
                try await Task.sleep(for: .milliseconds(20))
                gone = workers.allSatisfy { kill($0, 0) != 0 || Self.isZombie($0) }
            }
            #expect(gone, "worker \(worker) outlived its server after signal \(signal)")
            for other in workers { kill(other, SIGKILL) }
        }
    }

    static func isZombie(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return true }
        return stat[stat.index(after: close)...].split(separator: " ").first == "Z"
    }
}

/// The circuit breaker in the service: trip, refuse at once, probe, recover; seen in /health, /v1 and metrics.
@Suite(.serialized) struct CircuitBreakerInTheService {
    @Test func aVersionThatKeepsHittingLimitsIsDisabledAndRefusedAtOnceUntilReset() async throws {
        let root = try folder(["spin/transform.js": "export function transformEvent(e) { if (e.spin) { for (;;) {} } e.ok = true; return e; }"])
        defer { try? FileManager.default.removeItem(at: root) }
        // A long disabled time: the probe and its timing are the unit tests' (CircuitBreakerTests).
        let server = try ServeCommand.Server(transformations: root, arguments: [
            "--workers", "1", "--time-limit-ms", "50", "--breaker-limit-share", "0.8", "--breaker-minimum-events", "4", "--breaker-disabled-ms", "600000",
        ])
        let spinning = ServeCommand.request(version: "spin", messages: Array(repeating: #"{"spin":true}"#, count: 4))
        let first = try await server.post("/customTransform", spinning)
        #expect(first.status == 200)
        #expect(first.body.components(separatedBy: "time limit of 50 ms exceeded").count == 5)
        // Disabled: the next request is answered at once, each event with the reason and the retry time.
        let started = Date()
        let refused = try await server.post("/customTransform", ServeCommand.request(version: "spin", messages: [#"{"n":1}"#]))
        #expect(Date().timeIntervalSince(started) < 5)
        let items = try #require(try JSONSerialization.jsonObject(with: Data(refused.body.utf8)) as? [[String: Any]])
        #expect(items.count == 1 && items[0]["statusCode"] as? Int == 400)
        let message = items[0]["error"] as? String ?? ""
        // (Usually none of the loops ends its worker: the engine stops them; on a starved CPU the
        // worker's monitor may come first, with the same time-limit error.)
        #expect(message.contains(" of its events ended a worker process and 4 of 4 hit a limit") && message.contains("it will be tried again at 20"), "\(message)")
        #expect((items[0]["metadata"] as? [String: Any])?["messageId"] as? String == "m0")
        let health = try await server.get("/health")
        #expect(health.body.contains(#""breakers":{"degraded":0,"disabled":1,"versions":[{"version":"sv"#), "\(health.body)")
        let breakers = try await server.get("/v1/breakers")
        let listed = try #require(try JSONSerialization.jsonObject(with: Data(breakers.body.utf8)) as? [String: Any])
        let entry = try #require((listed["breakers"] as? [[String: Any]])?.first)
        #expect(entry["state"] as? String == "disabled" && entry["transformation"] as? String == "spin" && entry["retryAt"] is String)
        let metrics = try await server.get("/metrics")
        #expect(metrics.body.contains(#"sluice_breaker_transitions_total{to="disabled"} 1"#))
        #expect(metrics.body.contains(#"kind="disabled""#))
        // An operator's reset: the version runs again.
        let version = try #require(entry["version"] as? String)
        let reset = try await server.send("DELETE", "/v1/breakers/\(version)", "", headers: [:])
        #expect(reset.status == 200 && reset.body.contains(#""state":"healthy""#))
        #expect(try await server.post("/customTransform", ServeCommand.request(version: "spin", messages: [#"{"n":3}"#])).body.contains(#""ok":true"#))
        #expect(try await server.get("/v1/breakers").body == #"{"breakers":[]}"#)
        #expect(try await server.send("DELETE", "/v1/breakers/\(version)", "", headers: [:]).status == 404)
        #expect(server.stop() == 0)
    }
}

/// The other classes of the issue, through worker processes: the guilty event between innocent
/// ones gets its own result (an error, or its faithful output), the innocent ones theirs.
struct EdgeCase: Sendable, CustomTestStringConvertible {
    var name: String
    var language: Language
    /// Returns `{"n": …}` for innocent events; misbehaves on the guilty one.
    var code: String
    /// The guilty event (the middle one of three) as a message.
    var guilty: String
    /// What the guilty event's line must be (`describe`'s form, without the index), or a prefix.
    var expected: String
    var testDescription: String { name }
}

let deepEvent = String(repeating: #"{"a":"#, count: 10_000) + "1" + String(repeating: "}", count: 10_000)

let edgeCases = [
    EdgeCase(name: "js: a hijacked built-in that loops", language: .javascript, code: """
        export function transformEvent(e) {
          if (e.hijack) { Array.prototype.push = function () { for (;;) {} }; Object.prototype.toJSON = function () { for (;;) {} }; return { n: 1 }; }
          return { n: e.n };
        }
        """, guilty: #"{"hijack":true,"n":1}"#, expected: "time_limit time limit of 200 ms exceeded m1"),
    EdgeCase(name: "js: forging the result's metadata", language: .javascript, code: """
        export function transformEvent(e, metadata) {
          if (e.forge) { const m = metadata(e); m.messageId = 'forged'; m.destinationId = 'elsewhere'; Object.prototype.toJSON = undefined; }
          return { n: e.n };
        }
        """, guilty: #"{"forge":true,"n":1}"#, expected: #"output {"n":1} m1"#),
    EdgeCase(name: "js: an integer beyond 2^53 passes through", language: .javascript,
             code: "export function transformEvent(e) { return e; }",
             guilty: #"{"big":123456789012345678901234567890,"n":1}"#, expected: #"output {"big":123456789012345678901234567890,"n":1} m1"#),
    EdgeCase(name: "js: 10,000 levels of nesting pass through", language: .javascript,
             code: "export function transformEvent(e) { return e.a ? e : { n: e.n }; }",
             guilty: deepEvent, expected: "output \(deepEvent) m1"),
    EdgeCase(name: "py: a loop", language: .python,
             code: "def transformEvent(e, m):\n    while e.get('loop'):\n        pass\n    return {'n': e['n']}\n",
             guilty: #"{"loop":true,"n":1}"#, expected: "time_limit time limit of 200 ms exceeded m1"),
    EdgeCase(name: "py: a loop that catches the time limit", language: .python, code: """
        def transformEvent(e, m):
            while e.get('loop'):
                try:
                    while True:
                        pass
                except BaseException:
                    pass
            return {'n': e['n']}
        """, guilty: #"{"loop":true,"n":1}"#, expected: "time_limit time limit of 200 ms exceeded m1"),
    EdgeCase(name: "py: a long C call", language: .python,
             code: "def transformEvent(e, m):\n    if e.get('loop'):\n        sum(range(10**12))\n    return {'n': e['n']}\n",
             guilty: #"{"loop":true,"n":1}"#, expected: "time_limit time limit of 200 ms exceeded m1"),
    EdgeCase(name: "py: a finaliser that never returns", language: .python, code: """
        class Trap:
            def __del__(self):
                while True:
                    pass
        kept = []
        def transformEvent(e, m):
            if e.get('trap'):
                kept.append(Trap())
                Trap()
            return {'n': e['n']}
        """, guilty: #"{"trap":true,"n":1}"#, expected: "time_limit time limit of 200 ms exceeded m1"),
    EdgeCase(name: "py: forging the result's metadata", language: .python, code: """
        def transformEvent(e, metadata):
            if e.get('forge'):
                m = metadata(e)
                m['messageId'] = 'forged'
                m['destinationId'] = 'elsewhere'
            return {'n': e['n']}
        """, guilty: #"{"forge":true,"n":1}"#, expected: #"output {"n":1} m1"#),
    EdgeCase(name: "py: an integer of 5,000 digits passes through", language: .python,
             code: "def transformEvent(e, m):\n    return e\n",
             guilty: #"{"big":\#(bigInteger),"n":1}"#, expected: #"output {"big":\#(bigInteger),"n":1} m1"#),
    EdgeCase(name: "py: 10,000 levels of nesting pass through", language: .python,
             code: "def transformEvent(e, m):\n    return e if 'a' in e else {'n': e['n']}\n",
             guilty: deepEvent, expected: "output \(deepEvent) m1"),
]

let bigInteger = String(repeating: "1234567890", count: 500)

@Suite(.serialized) struct EdgeClassesInWorkers {
    @Test(arguments: edgeCases)
    func theGuiltyEventGetsItsOwnResultAndTheOthersTheirs(_ edge: EdgeCase) throws {
        let execution = runPoisoned(edge.code, edge.language, events: [#"{"n":0}"#, edge.guilty, #"{"n":2}"#])
        let lines = describe(execution)
        #expect(lines.count == 3, "\(lines)")
        #expect(lines.first == #"0 output {"n":0} m0"#)
        #expect(lines.last == #"2 output {"n":2} m2"#)
        #expect(lines.dropFirst().first == "1 " + edge.expected, "\(lines.dropFirst().first?.prefix(300) ?? "")")
    }
}

/// One worker serves many tenants, one batch at a time: what one Python transformation changes in
/// the standard library is put back before the next one runs, on the same worker process.
@Suite(.serialized) struct TenantsSharingAPythonWorker {
    /// A pool of its own: `poisonPool`'s worker is ended on purpose by the poison suites running
    /// beside this one, which would replace it mid-test (seen in CI: a new pid after 60 s).
    static let pool: WorkerPool = {
        var configuration = WorkerPool.Configuration()
        configuration.executable = sluiceBinary.path
        configuration.count = 1
        configuration.languages = Set(Language.allCases)
        return try! WorkerPool(configuration: configuration)
    }()

    static let meddler = """
        import random, decimal, re, json
        def transformEvent(e, m):
            random.seed(42)
            decimal.getcontext().prec = 3
            re.sub = lambda *a, **k: 'hijacked'
            json.dumps = lambda *a, **k: 'hijacked'
            return {'seeded': random.random()}
        """
    static let bystander = """
        import random, decimal, re, json
        def transformEvent(e, m):
            return {'r': random.random(), 'd': str(decimal.Decimal(1) / decimal.Decimal(7)),
                    's': re.sub('a', 'b', 'aaa'), 'j': json.dumps([1])}
        """

    @Test func aSecondTenantSeesNoneOfTheFirstsChanges() throws {
        let before = Self.pool.pids
        for round in 0..<3 {
            let meddled = describe(runPoisoned(Self.meddler, .python, events: [#"{"n":0}"#], id: "meddler", pool: Self.pool))
            #expect(meddled == [#"0 output {"seeded":0.6394267984578837} m0"#], "round \(round)")
            let seen = describe(runPoisoned(Self.bystander, .python, events: [#"{"n":0}"#], id: "bystander", pool: Self.pool))
            #expect(seen.count == 1)
            let line = seen.first ?? ""
            #expect(line.contains(#""d":"0.1428571428571428571428571429""#), "round \(round): \(line)")
            #expect(line.contains(#""s":"bbb""#) && line.contains(#""j":"[1]""#), "round \(round): \(line)")
            #expect(!line.contains("0.6394267984578837") && !line.contains("0.025010755222666936"), "round \(round): \(line)")
        }
        // Put back, not refused: the same worker served every batch.
        #expect(Self.pool.pids == before)
    }
}
