import IFTCPU
import IFTCore
import IFTModel
import IFTTestSupport
import XCTest

/// Batched generation (`BatchGenerator`, `LlamaModel.decodeStep`): every sequence's output equals
/// one-at-a-time decoding, with sequences of different prompt lengths finishing at different times
/// and waiting prompts taking their slots.
final class BatchGenerationTests: XCTestCase {
    let prompts = ["abc", "Hello there", "x", "The quick brown fox", "12345", "zz top", "a b c d e f g", "?"]

    /// cpu-ref: the batched step sums in the same order as the single one, so greedy outputs are
    /// identical, for every batch size (1: no batching; 3: slots refilled; 8: all at once).
    func testGreedyBatchesEqualOneAtATimeOnTheReference() throws {
        let gen = try TinyModel.generator()
        let requests = prompts.enumerated().map { i, p in
            GenerationRequest(prompt: gen.tokenizer.encode(p), maxTokens: 4 + 3 * (i % 4))
        }
        let alone = try requests.map { try gen.generate(prompt: $0.prompt, maxTokens: $0.maxTokens) }
        for batch in [1, 3, 8] {
            var finished: [Int] = []
            let batched = try BatchGenerator(model: gen.model, tokenizer: gen.tokenizer, maxBatch: batch)
                .generate(requests) { i, _ in finished.append(i) }
            XCTAssertEqual(batched.map(\.tokens), alone.map(\.tokens), "maxBatch \(batch)")
            XCTAssertEqual(batched.map(\.text), alone.map(\.text), "maxBatch \(batch)")
            XCTAssertEqual(batched.map(\.stopReason), alone.map(\.stopReason))
            XCTAssertEqual(finished.sorted(), Array(0..<requests.count), "every request reported once")
        }
    }

    /// Seeded sampling: a request draws the same tokens whatever else is in the batch; stop strings
    /// cut the text as in `Generator`.
    func testSeededSamplingAndStopStringsPerRequest() throws {
        let gen = try TinyModel.generator()
        let sampling = SamplingOptions(temperature: 0.9, topK: 40, seed: 7)
        let requests = prompts.prefix(5).map { GenerationRequest(prompt: gen.tokenizer.encode($0), maxTokens: 10, sampling: sampling, stop: ["e"]) }
        let alone = try requests.map { try gen.generate(prompt: $0.prompt, maxTokens: 10, sampling: sampling, stop: ["e"]) }
        let batched = try BatchGenerator(model: gen.model, tokenizer: gen.tokenizer, maxBatch: 2).generate(requests)
        XCTAssertEqual(batched.map(\.text), alone.map(\.text))
        XCTAssertEqual(batched.map(\.stopReason), alone.map(\.stopReason))
        XCTAssertTrue(batched.allSatisfy { !$0.text.contains("e") })
    }

    /// The cpu backend: one decode step for 5 sequences gives each the logits of its own single
    /// step (sgemm sums in another order for m = 5 than for m = 1: within 1e-4).
    func testDecodeStepRowsEqualSingleStepsOnTheCPUBackend() throws {
        let gen = try TinyModel.generator(backend: try CPUBackend())
        let cpu = gen.model
        let prompts = self.prompts.prefix(5).map { gen.tokenizer.encode($0) }
        let single = try prompts.map { p -> [Float] in
            let cache = try cpu.makeCache(capacity: 32)
            _ = try cpu.forward(p, cache: cache)
            return try cpu.backend.floats(try cpu.forward([7], cache: cache))
        }
        let caches = try prompts.map { p -> KVCache in
            let cache = try cpu.makeCache(capacity: 32)
            _ = try cpu.forward(p, cache: cache)
            return cache
        }
        let batched = try cpu.backend.floats(try cpu.decodeStep([Int32](repeating: 7, count: 5), caches: caches))
        let vocab = cpu.config.vocabSize
        for s in 0..<5 {
            for j in 0..<vocab {
                XCTAssertEqual(batched[s * vocab + j], single[s][j], accuracy: 1e-4, "sequence \(s) logit \(j)")
            }
            XCTAssertEqual(caches[s].length, prompts[s].count + 1)
        }
        XCTAssertThrowsError(try cpu.decodeStep([1, 2], caches: [caches[0]]))
        XCTAssertThrowsError(try cpu.decodeStep([Int32(vocab)], caches: [caches[0]]))
    }

    func testEmptyAndOverlongPromptsAreRefusedUpFront() throws {
        let gen = try TinyModel.generator()
        let b = BatchGenerator(model: gen.model, tokenizer: gen.tokenizer)
        XCTAssertThrowsError(try b.generate([GenerationRequest(prompt: [1], maxTokens: 2), GenerationRequest(prompt: [], maxTokens: 2)])) {
            XCTAssertTrue("\($0)".contains("request 1: the prompt is empty"), "\($0)")
        }
        let long = [Int32](repeating: 97, count: gen.model.maxPositions)
        XCTAssertThrowsError(try b.generate([GenerationRequest(prompt: long, maxTokens: 2)]))
    }
}
