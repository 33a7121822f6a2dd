import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import IFTVulkan
import XCTest

extension TrainingStepVulkanTests {
    /// `bench train --shape ... --mode qlora`'s base (random NF4 projections made directly, bf16
    /// embedding and untied head, f32 norms) gives the same QLoRA step on Vulkan as on cpu-ref.
    func testRandomFourBitBaseMatchesReference() throws {
        var c = config()
        c.tieWordEmbeddings = false
        var grads: [[Float]] = []
        var losses: [Double] = []
        for be in [ref as any Backend, vk as any Backend] {
            let w = try LlamaWeights.random(c, on: be, seed: 5, std: 0.2, projections: .fourBit)
            XCTAssertEqual([w.layers[0].up.dtype, w.tokenEmbedding.dtype, w.output?.dtype], [.nf4, .bf16, .bf16])
            let m = try TrainableLlama(config: c, weights: w, backend: be, mode: .qlora, lora: LoRAConfig(rank: 4, alpha: 8), seed: 2)
            var rng = SeededGenerator(seed: 8)
            for p in m.parameters where p.name.contains("lora_B") {
                try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.1 * rng.normal() })
            }
            try m.zeroGradients()
            let b = batch(c, rows: 2, length: 9, seed: 1, packed: false)
            losses.append(try m.step(b, lossScale: 1 / Float(b.learnedTargetCount)).lossSum)
            grads.append(try m.parameters.flatMap { try be.floats($0.grad) })
        }
        XCTAssertLessThan(nmse(grads[1], grads[0]), 1e-9)
        XCTAssertEqual(losses[1], losses[0], accuracy: 1e-5 * abs(losses[0]))
    }
}
