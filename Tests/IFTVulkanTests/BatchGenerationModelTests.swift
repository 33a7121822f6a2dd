import Foundation
import IFTCPU
import IFTCore
import IFTModel
import XCTest

/// Batched generation on the real SmolLM2-135M-Instruct: greedy answers to chat prompts equal the
/// one-at-a-time answers on the cpu backend (slots refilled as sequences finish), and a batched
/// decode step on Vulkan gives each sequence the logits of its own single step.
final class BatchGenerationModelTests: VulkanTestCase {
    func testBatchedGreedyAnswersEqualOneAtATimeOnTheCPUBackend() throws {
        let gguf = try GGUFFile(path: try ModelFixture.smolLM2Path())
        let tokenizer = try Tokenizer(gguf: gguf)
        let model = try LlamaModel(gguf: gguf, backend: try CPUBackend(), maxPositions: 256)
        let questions = [
            "What is the capital of France?", "Name three colors.", "What is 2 + 2?", "Say hello in Spanish.",
            "Write a haiku about rain.", "What is the opposite of hot?",
        ]
        let requests = try questions.map { q in
            let prompt = try ChatTemplate(source: tokenizer.chatTemplate ?? "").render(
                messages: [.user(q)], addGenerationPrompt: true)
            return GenerationRequest(prompt: tokenizer.encode(prompt, parseSpecial: true), maxTokens: 24)
        }
        let single = Generator(model: model, tokenizer: tokenizer)
        let alone = try requests.map { try single.generate(prompt: $0.prompt, maxTokens: $0.maxTokens) }
        let batched = try BatchGenerator(model: model, tokenizer: tokenizer, maxBatch: 4).generate(requests)
        XCTAssertEqual(batched.map(\.text), alone.map(\.text))
        XCTAssertTrue(alone[0].text.contains("Paris"), alone[0].text)
        XCTAssertTrue(alone.contains { $0.stopReason == "eos" } && alone.contains { $0.stopReason == "length" },
            "some answers end before others: \(alone.map(\.stopReason))")
    }

    func testDecodeStepOnVulkanEqualsSingleSteps() throws {
        let gguf = try GGUFFile(path: try ModelFixture.smolLM2Path())
        let tokenizer = try Tokenizer(gguf: gguf)
        let model = try LlamaModel(gguf: gguf, backend: vk, maxPositions: 64)
        let prompts = ["Hello", "The capital of France is", "1, 2, 3,"].map { tokenizer.encode($0) }
        func prefilled() throws -> [KVCache] {
            try prompts.map { p in
                let cache = try model.makeCache(capacity: 32)
                _ = try model.forward(p, cache: cache, logitRows: 1)
                return cache
            }
        }
        let singles = try prefilled().map { try vk.floats(try model.forward([42], cache: $0, logitRows: 1)) }
        let caches = try prefilled()
        let batched = try vk.floats(try model.decodeStep([42, 42, 42], caches: caches))
        let vocab = model.config.vocabSize
        for s in 0..<3 {
            let row = Array(batched[(s * vocab)..<((s + 1) * vocab)])
            XCTAssertLessThan(nmse(row, singles[s]), 1e-10, "sequence \(s)")
            XCTAssertEqual(caches[s].length, prompts[s].count + 1)
        }
    }
}
