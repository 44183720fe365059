/// Reading, `workers` parallel workers and an in-order consumer: the shape of every offline run
/// that uses more than one engine (`sluice run`, `replay`, `record` with `--jobs N`).
///
/// `produce` runs on a reading thread and yields items until nil; each item is handed to one of
/// `workers` threads running `work`; `consume` runs on the calling thread and receives every
/// item with its result **in the order the items were produced**, whichever worker finished
/// first. With one worker this is the three-stage pipeline the runner always had (read, engine,
/// write, a few items apart).
///
/// Memory is bounded: at most `window` items (default `4 × workers`) are between being produced
/// and being consumed — queued, being worked on, or finished and waiting for an earlier one.
/// The reader waits for a free place before producing the next item. Since workers take items
/// oldest first, the item the consumer waits for is always queued or being worked on, so the
/// window never deadlocks.
///
/// When `consume` throws, the run stops early: the reader produces nothing more, workers skip
/// what is left (without calling `work`), and `run` throws that error once every thread is done.
/// When `produce` throws, the items produced before it are still worked on and consumed, then
/// `run` throws the read error. No thread touches the closures after `run` returns. A pipeline
/// runs once.
public final class OrderedPipeline<Item, Output>: @unchecked Sendable {
    // @unchecked: all mutable state is guarded by `lock`; the closures are only called on the
    // threads the documentation names, and `run` waits for every thread before returning.
    private let lock = ThreadLock()
    private let changed = ThreadCondition()
    private let workers: Int
    private let window: Int
    /// Finished items by sequence number, waiting for the consumer.
    private var finished: [Int: (Item, Output?)] = [:]
    /// Items produced and not yet consumed.
    private var inFlight = 0
    /// How many items the reader produced, once it has stopped.
    private var produced: Int?
    private var readFailure: (any Error)?
    private var stopped = false
    private var threadsRunning = 0

    /// A pipeline with `workers` parallel workers (at least 1) and at most `window` items in
    /// flight (default `4 × workers`, at least `2 × workers`): room for finished items to wait
    /// while the consumer, which shares the cores with the workers, catches up.
    public init(workers: Int, window: Int? = nil) {
        self.workers = max(1, workers)
        self.window = max(2 * self.workers, window ?? 4 * self.workers)
    }

    /// Runs the pipeline to its end; see the type's documentation.
    public func run(produce: @escaping () throws -> Item?, work: @escaping (Item) -> Output,
                    consume: (Item, Output) throws -> Void) throws {
        let queue = BoundedQueue<(sequence: Int, item: Item)?>(capacity: window + workers)
        lock.withLock { threadsRunning = 1 + workers }
        let reader = UncheckedBox(produce)
        startThread { [self] in
            var count = 0
            var failure: (any Error)?
            while true {
                let mayProduce = lock.withLock {
                    while inFlight >= window && !stopped { changed.wait(lock) }
                    if stopped { return false }
                    inFlight += 1
                    return true
                }
                guard mayProduce else { break }
                let next: Item?
                do {
                    next = try reader.value()
                } catch {
                    failure = error
                    next = nil
                }
                guard let next else {
                    lock.withLock { inFlight -= 1 }
                    break
                }
                queue.push((count, next))
                count += 1
            }
            for _ in 0..<workers { queue.push(nil) }
            lock.withLock {
                self.produced = count
                self.readFailure = failure
                threadsRunning -= 1
                changed.broadcast()
            }
        }
        let worker = UncheckedBox(work)
        for _ in 0..<workers {
            startThread { [self] in
                while let (sequence, item) = queue.pop() {
                    let output = lock.withLock { stopped } ? nil : worker.value(item)
                    lock.withLock {
                        finished[sequence] = (item, output)
                        changed.broadcast()
                    }
                }
                lock.withLock {
                    threadsRunning -= 1
                    changed.broadcast()
                }
            }
        }
        var consumeFailure: (any Error)?
        var next = 0
        while true {
            let ready: (Item, Output?)? = lock.withLock {
                while finished[next] == nil && produced.map({ next < $0 }) ?? true { changed.wait(lock) }
                return finished.removeValue(forKey: next)
            }
            guard let (item, output) = ready else { break }
            next += 1
            if consumeFailure == nil, let output {
                do {
                    try consume(item, output)
                } catch {
                    consumeFailure = error
                    lock.withLock { stopped = true }
                }
            }
            lock.withLock {
                inFlight -= 1
                changed.broadcast()
            }
        }
        let readFailure = lock.withLock {
            while threadsRunning > 0 { changed.wait(lock) }
            return self.readFailure
        }
        if let consumeFailure { throw consumeFailure }
        if let readFailure { throw readFailure }
    }
}
