import IFTCore
import IFTModel
import ServiceLifecycle

/// What the engine reports to one request as it is decoded.
public enum GenerationEvent: Sendable, Equatable {
    /// Text completed since the last event (never empty).
    case text(String)
    /// The request finished; nothing follows.
    case finished(GenerationSummary)
    /// The request could not be run (or the engine stopped); nothing follows.
    case failed(String)
}

/// How a request ended.
public struct GenerationSummary: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// The whole generated text (stop strings cut).
    public var text: String
    /// `BatchDecoder`'s reason: "eos", "stop string" or "length".
    public var stopReason: String

    public init(promptTokens: Int, completionTokens: Int, text: String, stopReason: String) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.text = text
        self.stopReason = stopReason
    }

    /// OpenAI's `finish_reason`: "length" when the token limit (or the context) ended it, else "stop".
    public var finishReason: String { stopReason == "length" ? "length" : "stop" }
}

/// Why `GenerationEngine.submit` refused a request.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    /// `limit` requests are already waiting for a place in the batch.
    case queueFull(limit: Int)
    /// The engine is not running (not started yet, or stopped).
    case notRunning

    public var description: String {
        switch self {
        case .queueFull(let limit): return "the server is busy: \(limit) requests are already waiting; retry later"
        case .notRunning: return "the generation engine is not running"
        }
    }
}

/// Counters of a running engine (a snapshot).
public struct EngineStatistics: Sendable, Equatable {
    /// Requests waiting for a place in the batch.
    public var waiting = 0
    /// Sequences being decoded.
    public var active = 0
    /// The most sequences decoded together in one step so far.
    public var peakActive = 0
    /// Decoding steps run.
    public var steps = 0
    /// Steps that decoded more than one sequence.
    public var batchedSteps = 0
    public var finished = 0
    /// Requests whose client went away before they finished.
    public var cancelled = 0
    public var failed = 0
    /// Requests turned away because the queue was full.
    public var rejected = 0

    public init() {}
}

/// One request accepted by the engine: its id (for `cancel`) and its events, ending with
/// `.finished` or `.failed`.
public struct Submission: Sendable {
    public let id: Int
    public let events: AsyncStream<GenerationEvent>
}

/// The one generation engine every request shares: a `BatchDecoder` driven by a dedicated thread.
/// `submit` queues a request (lock + condition variable); the thread adds waiting requests while
/// the batch has room (running their prompts), runs one decoding step for all active sequences,
/// and hands each request its new text through its `AsyncStream`; with nothing to do it sleeps
/// on the condition variable. Requests that arrive together are therefore decoded together.
///
/// As a `Service` (ServiceLifecycle) it starts its thread in `run()` and stops it at graceful
/// shutdown, after the HTTP server (listed before it) has finished its requests.
public final class GenerationEngine: Service, @unchecked Sendable {
    /// Most sequences decoded together.
    public let maxBatch: Int
    /// Most requests waiting for a place in the batch before `submit` refuses more.
    public let maxQueue: Int

    private struct Job {
        let id: Int
        let request: GenerationRequest
        let continuation: AsyncStream<GenerationEvent>.Continuation
    }
    private enum State { case idle, running, stopping, stopped }

    private let decoder: BatchDecoder  // the engine thread's alone
    private var running: [Int: AsyncStream<GenerationEvent>.Continuation] = [:]  // the engine thread's alone
    private let lock = ConditionLock()
    // Guarded by `lock`:
    private var state = State.idle
    private var waiting: [Job] = []
    private var cancelled: Set<Int> = []
    private var stats = EngineStatistics()
    private var nextID = 1
    private var thread: DedicatedThread?

    /// `stopTokens`: the end-of-generation ids (see `ServedModel.stopTokens`).
    public init(model: LlamaModel, tokenizer: Tokenizer, stopTokens: Set<Int32>, maxBatch: Int, maxQueue: Int) {
        self.maxBatch = max(1, maxBatch)
        self.maxQueue = max(1, maxQueue)
        decoder = BatchDecoder(model: model, tokenizer: tokenizer, maxBatch: self.maxBatch, stopTokens: stopTokens)
    }

    deinit { stop() }

    /// A snapshot of the counters.
    public var statistics: EngineStatistics { lock.withLock { stats } }

    /// Starts the engine thread (once; later calls do nothing).
    public func start() throws {
        try lock.withLock {
            guard state == .idle else { return }
            thread = try DedicatedThread(name: "ift-serve") { [self] in loop() }
            state = .running
        }
    }

    /// Stops the engine: requests still waiting or decoding end with `.failed`; returns once the
    /// thread has finished its current step and exited.
    public func stop() {
        let (orphans, toJoin): ([Job], DedicatedThread?) = lock.withLock {
            guard state == .idle || state == .running else { return ([], nil) }
            let jobs = waiting
            waiting.removeAll()
            stats.waiting = 0
            stats.failed += jobs.count
            if state == .idle {
                state = .stopped
                return (jobs, nil)
            }
            state = .stopping
            lock.broadcast()
            return (jobs, thread)
        }
        for job in orphans { fail(job.continuation, "the server is shutting down") }
        toJoin?.join()
        lock.withLock { if state == .stopping { state = .stopped } }
    }

    /// `Service`: runs the engine until graceful shutdown (or cancellation).
    public func run() async throws {
        try start()
        try? await gracefulShutdown()
        stop()
    }

    /// Checks that a request can run (a non-empty prompt that fits the model's context, token ids
    /// in the vocabulary); safe from any thread.
    public func validate(_ request: GenerationRequest) throws { try decoder.validate(request) }

    /// The model's context in tokens.
    public var contextLength: Int { decoder.model.maxPositions }

    /// Queues `request` (before `start`, it waits for it). Throws `.queueFull` when `maxQueue`
    /// requests are already waiting, `.notRunning` once the engine is stopping.
    public func submit(_ request: GenerationRequest) throws(EngineError) -> Submission {
        let (events, continuation) = AsyncStream<GenerationEvent>.makeStream()
        lock.lock()
        defer { lock.unlock() }
        guard state == .idle || state == .running else { throw .notRunning }
        guard waiting.count < maxQueue else {
            stats.rejected += 1
            throw .queueFull(limit: maxQueue)
        }
        let id = nextID
        nextID += 1
        continuation.onTermination = { [weak self] termination in
            if case .cancelled = termination { self?.cancel(id) }
        }
        waiting.append(Job(id: id, request: request, continuation: continuation))
        stats.waiting = waiting.count
        lock.broadcast()
        return Submission(id: id, events: events)
    }

    /// Drops request `id` (its client went away): it leaves the queue, or its sequence is removed
    /// from the batch before the next step; either way its events end with no `.finished`.
    /// Unknown or finished ids are ignored.
    public func cancel(_ id: Int) {
        let removed: Job? = lock.withLock {
            if let i = waiting.firstIndex(where: { $0.id == id }) {
                stats.cancelled += 1
                stats.waiting = waiting.count - 1
                return waiting.remove(at: i)
            }
            guard state == .running else { return nil }
            cancelled.insert(id)
            lock.broadcast()
            return nil
        }
        removed?.continuation.finish()
    }

    // MARK: The engine thread

    private func loop() {
        while true {
            var cancels: Set<Int> = []
            var adds: [Job] = []
            let stopping: Bool = lock.withLock {
                while state == .running && waiting.isEmpty && cancelled.isEmpty && running.isEmpty { lock.wait() }
                cancels = cancelled
                cancelled.removeAll()
                adds = Array(waiting.prefix(max(0, maxBatch - decoder.activeCount)))
                waiting.removeFirst(adds.count)
                stats.waiting = waiting.count
                return state != .running
            }
            if stopping {
                for job in adds { fail(job.continuation, "the server is shutting down") }
                for (id, c) in running {
                    decoder.cancel(id)
                    fail(c, "the server is shutting down")
                }
                let dropped = adds.count + running.count
                running.removeAll()
                lock.withLock {
                    stats.active = 0
                    stats.failed += dropped
                }
                return
            }
            var cancelledNow: [AsyncStream<GenerationEvent>.Continuation] = []
            for id in cancels {
                guard let c = running.removeValue(forKey: id) else { continue }
                decoder.cancel(id)
                cancelledNow.append(c)
            }
            // Failures and events are handed out after the counters are updated, so that a client
            // that has its answer sees it counted.
            var failures: [(AsyncStream<GenerationEvent>.Continuation, String)] = []
            for job in adds {
                do {
                    try decoder.add(job.request, id: job.id)
                    running[job.id] = job.continuation
                } catch {
                    failures.append((job.continuation, "\(error)"))
                }
            }
            let batch = decoder.activeCount
            var events: [BatchDecoder.Event] = []
            if batch > 0 {
                do {
                    events = try decoder.step()
                } catch {
                    for (id, c) in running {
                        decoder.cancel(id)
                        failures.append((c, "decoding failed: \(error)"))
                    }
                    running.removeAll()
                }
            }
            let finishedNow = events.filter { $0.result != nil && running[$0.id] != nil }.count
            lock.withLock {
                stats.cancelled += cancelledNow.count
                stats.failed += failures.count
                stats.finished += finishedNow
                stats.active = running.count - finishedNow
                if batch > 0 {
                    stats.steps += 1
                    if batch > 1 { stats.batchedSteps += 1 }
                    stats.peakActive = max(stats.peakActive, batch)
                }
            }
            for c in cancelledNow { c.finish() }
            for (c, message) in failures { fail(c, message) }
            for event in events { deliver(event) }
        }
    }

    /// Hands `event` to its request (and forgets the request when it finished).
    private func deliver(_ event: BatchDecoder.Event) {
        guard let c = running[event.id] else { return }
        if !event.text.isEmpty { c.yield(.text(event.text)) }
        guard let r = event.result else { return }
        running[event.id] = nil
        c.yield(.finished(GenerationSummary(
            promptTokens: r.promptTokens, completionTokens: r.tokens.count, text: r.text, stopReason: r.stopReason)))
        c.finish()
    }

    private func fail(_ c: AsyncStream<GenerationEvent>.Continuation, _ message: String) {
        c.yield(.failed(message))
        c.finish()
    }
}
