import IFTCPU
import IFTCore
import IFTModel
import IFTServe
import IFTTestSupport
import XCTest

/// The engine on a tiny random model (no model file needed): requests queued together decode
/// together and get `BatchGenerator`'s results; the queue limit, cancellation and stopping.
final class GenerationEngineTests: XCTestCase {
    let prompts = ["abc", "Hello there", "x", "The quick brown fox", "12345", "zz top"]

    /// The tiny random model with a 4096-token context, so that a long request stays in the batch
    /// long enough to be cancelled.
    func tinyModel() throws -> (model: LlamaModel, tokenizer: Tokenizer) { try TinyModel.load(contextLength: 4096) }

    /// A submission's events: the text pieces and how it ended (nil: the stream ended without
    /// `.finished` or `.failed`, or nothing came within `seconds`, which is a failure).
    func collect(_ s: Submission, within seconds: Double = 60, line: UInt = #line) async -> (pieces: [String], end: GenerationEvent?) {
        let outcome = await withTaskGroup(of: ([String], GenerationEvent?)?.self) { group in
            group.addTask {
                var pieces: [String] = []
                for await event in s.events {
                    if case .text(let t) = event { pieces.append(t) } else { return (pieces, event) }
                }
                return (pieces, nil)
            }
            group.addTask {
                try? await Task.sleep(for: .seconds(seconds))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()  // ends whichever is left (a stream's iteration stops when cancelled)
            return first
        }
        guard let outcome else {
            XCTFail("request \(s.id): no end within \(seconds) s", line: line)
            return ([], nil)
        }
        return outcome
    }

    func testQueuedRequestsDecodeTogetherAndMatchTheBatchGenerator() async throws {
        let (model, tokenizer) = try tinyModel()
        let requests = prompts.enumerated().map { i, p in
            GenerationRequest(prompt: tokenizer.encode(p), maxTokens: 5 + 2 * i)
        }
        let expected = try BatchGenerator(model: model, tokenizer: tokenizer, maxBatch: 4).generate(requests)
        let engine = GenerationEngine(model: model, tokenizer: tokenizer, stopTokens: [], maxBatch: 4, maxQueue: 8)
        // Queued before the engine starts: the first step takes 4, the rest join as slots free up.
        let submissions = try requests.map { try engine.submit($0) }
        XCTAssertEqual(engine.statistics.waiting, requests.count)
        try engine.start()
        for (i, s) in submissions.enumerated() {
            let (pieces, end) = await collect(s)
            guard case .finished(let summary) = end else { return XCTFail("request \(i) ended with \(String(describing: end))") }
            XCTAssertEqual(summary.text, expected[i].text)
            XCTAssertEqual(pieces.joined(), expected[i].text, "the streamed pieces add up to the text")
            XCTAssertEqual(summary.completionTokens, requests[i].maxTokens)
            XCTAssertEqual(summary.promptTokens, requests[i].prompt.count)
            XCTAssertEqual(summary.finishReason, "length")
        }
        let stats = engine.statistics
        XCTAssertEqual(stats.peakActive, 4)
        XCTAssertGreaterThan(stats.batchedSteps, 0)
        XCTAssertEqual(stats.finished, requests.count)
        XCTAssertEqual(stats.waiting, 0)
        let idle = await eventually(within: 5) { engine.statistics.active == 0 }
        XCTAssertTrue(idle)
        engine.stop()
    }

    func testQueueLimitCancellationAndStop() async throws {
        let (model, tokenizer) = try tinyModel()
        let engine = GenerationEngine(model: model, tokenizer: tokenizer, stopTokens: [], maxBatch: 1, maxQueue: 2)
        let long = GenerationRequest(prompt: tokenizer.encode("abc"), maxTokens: 4000)
        let first = try engine.submit(long)
        let second = try engine.submit(long)
        XCTAssertThrowsError(try engine.submit(long)) { XCTAssertEqual($0 as? EngineError, .queueFull(limit: 2)) }
        XCTAssertEqual(engine.statistics.rejected, 1)
        // Cancelled while waiting: its stream ends with no event.
        engine.cancel(second.id)
        let (secondPieces, secondEnd) = await collect(second)
        XCTAssertEqual(secondPieces, [])
        XCTAssertNil(secondEnd)
        XCTAssertEqual(engine.statistics.cancelled, 1)

        // Cancelled while decoding: it leaves the batch (its events end with no result) and the
        // engine goes on with others.
        try engine.start()
        let decoding = await eventually(within: 10) { engine.statistics.active == 1 }
        XCTAssertTrue(decoding, "\(engine.statistics)")
        engine.cancel(first.id)
        let (_, firstEnd) = await collect(first)
        XCTAssertNil(firstEnd)
        let left = await eventually(within: 10) { engine.statistics.cancelled == 2 && engine.statistics.active == 0 }
        XCTAssertTrue(left, "\(engine.statistics)")
        let third = try engine.submit(GenerationRequest(prompt: tokenizer.encode("x"), maxTokens: 3))
        guard case .finished(let s)? = await collect(third).end else { return XCTFail("the engine stopped serving") }
        XCTAssertEqual(s.completionTokens, 3)

        // Stopping fails what is still waiting or decoding; later submissions are refused.
        let running = try engine.submit(GenerationRequest(prompt: tokenizer.encode("y"), maxTokens: 10_000))
        let busy = await eventually(within: 10) { engine.statistics.active == 1 }
        XCTAssertTrue(busy, "\(engine.statistics)")
        engine.stop()
        let (_, runningEnd) = await collect(running)
        XCTAssertEqual(runningEnd, .failed("the server is shutting down"))
        XCTAssertThrowsError(try engine.submit(long)) { XCTAssertEqual($0 as? EngineError, .notRunning) }
    }

    /// A request that cannot run (a token id outside the vocabulary) fails alone.
    func testAFailingRequestFailsAlone() async throws {
        let (model, tokenizer) = try tinyModel()
        let engine = GenerationEngine(model: model, tokenizer: tokenizer, stopTokens: [], maxBatch: 4, maxQueue: 4)
        XCTAssertThrowsError(try engine.validate(GenerationRequest(prompt: [9999], maxTokens: 2)))
        let bad = try engine.submit(GenerationRequest(prompt: [9999], maxTokens: 2))
        let good = try engine.submit(GenerationRequest(prompt: tokenizer.encode("ok"), maxTokens: 2))
        try engine.start()
        guard case .failed(let why)? = await collect(bad).end else { return XCTFail("the bad request did not fail") }
        XCTAssertTrue(why.contains("outside the vocabulary"), why)
        guard case .finished? = await collect(good).end else { return XCTFail("the good request did not finish") }
        XCTAssertEqual(engine.statistics.failed, 1)
        engine.stop()
    }
}
