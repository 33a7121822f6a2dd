import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import IFTVulkan
import XCTest

/// The whole training step on Vulkan against cpu-ref: gradients in every mode (packed rows,
/// accumulation, an NF4 QLoRA base, LoRA dropout), and the PyTorch parity fixture's 50 LoRA steps
/// (`Tests/IFTTrainTests/Fixtures/tiny-llama-train`, made by `Tools/make-train-fixture.py`).
final class TrainingStepVulkanTests: VulkanTestCase {
    static let fixture = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        + "/IFTTrainTests/Fixtures/tiny-llama-train"

    func config() -> LlamaConfig {
        // Input dimensions of 64 and 128 so that QLoRA stores NF4 blocks; GQA 4/2, tied embeddings.
        LlamaConfig(
            vocabSize: 70, hiddenSize: 64, intermediateSize: 128, layerCount: 2, headCount: 4, kvHeadCount: 2, headDim: 16,
            maxPositions: 32, tieWordEmbeddings: true)
    }

    func batch(_ c: LlamaConfig, rows: Int, length: Int, seed: UInt64, packed: Bool) -> Batch {
        var rng = SeededGenerator(seed: seed)
        let n = rows * length
        var targets = (0..<n).map { _ in Int32(rng.next() % UInt64(c.vocabSize)) }
        targets[n - 1] = Batch.ignoreIndex
        let split = length / 2
        return Batch(
            batchSize: rows, length: length, inputs: (0..<n).map { _ in Int32(rng.next() % UInt64(c.vocabSize)) }, targets: targets,
            lengths: [Int](repeating: length, count: rows),
            positions: packed ? (0..<n).map { Int32($0 % length >= split ? $0 % length - split : $0 % length) } : nil,
            segments: packed ? (0..<n).map { Int32($0 % length >= split ? 1 : 0) } : nil)
    }

    func testGradientsMatchReferenceInEveryMode() throws {
        let c = config()
        for mode in TrainingMode.allCases {
            var grads: [[Float]] = []
            var losses: [Double] = []
            for be in [ref as any Backend, vk as any Backend] {
                let w = try LlamaWeights.random(c, on: be, seed: 5, std: 0.2)
                let m = try TrainableLlama(
                    config: c, weights: w, backend: be, mode: mode, lora: LoRAConfig(rank: 4, alpha: 8, dropout: 0.1), seed: 2)
                var rng = SeededGenerator(seed: 8)
                for p in m.parameters where p.name.contains("lora_B") {
                    try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.1 * rng.normal() })
                }
                try m.zeroGradients()
                let b1 = batch(c, rows: 2, length: 9, seed: 1, packed: false), b2 = batch(c, rows: 3, length: 6, seed: 2, packed: true)
                let n = Float(b1.learnedTargetCount + b2.learnedTargetCount)
                let r1 = try m.step(b1, lossScale: 1 / n, dropoutSeed: 3)
                let r2 = try m.step(b2, lossScale: 1 / n, dropoutSeed: 4)
                losses.append(r1.lossSum + r2.lossSum)
                grads.append(try m.parameters.flatMap { try be.floats($0.grad) })
            }
            let e = nmse(grads[1], grads[0])
            print("training step \(mode): vulkan vs cpu-ref gradients NMSE \(e), loss \(losses[1]) vs \(losses[0])")
            XCTAssertLessThan(e, 1e-9, "\(mode)")
            XCTAssertEqual(losses[1], losses[0], accuracy: 1e-5 * abs(losses[0]))
        }
    }

    /// 50 LoRA steps of the PyTorch fixture on Vulkan follow cpu-ref (and so PyTorch).
    func testPyTorchFixtureLoRATraceOnVulkan() throws {
        let d = Self.fixture
        let c = try LlamaConfig(configJSONPath: d + "/config.json")
        let json = try JSONValue.parse(contentsOf: d + "/batches.json")
        let batches: [Batch] = (json["micro_batches"]?.arrayValue ?? []).map { mb in
            let inputs = (mb["input_ids"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue).map(Int32.init) }
            let targets = (mb["targets"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue).map(Int32.init) }
            return Batch(
                batchSize: inputs.count, length: inputs[0].count, inputs: inputs.flatMap { $0 }, targets: targets.flatMap { $0 },
                lengths: [Int](repeating: inputs[0].count, count: inputs.count))
        }
        let trace = try JSONValue.parse(contentsOf: d + "/lora/trace.json")
        let expected = trace["loss"]?.arrayValue?.compactMap(\.doubleValue) ?? []
        XCTAssertEqual(expected.count, 50)
        let st = try SafetensorsFile(path: d + "/model.safetensors")
        let init0 = try SafetensorsFile(path: d + "/lora/adapter_init.safetensors")
        let m = try TrainableLlama(
            config: c, weights: try LlamaWeights.load(safetensors: [st], config: c, on: vk), backend: vk, mode: .lora,
            lora: LoRAConfig(rank: 4, alpha: 8, dropout: 0))
        for p in m.parameters { try m.setParameter(p.name, try init0.floats(p.name)) }
        var o = TrainingOptions()
        o.maxSteps = 50
        o.gradientAccumulation = 2
        o.learningRate = 1e-3
        o.warmupSteps = 5
        o.progress = false
        let t = try Trainer(model: m, options: o) { _ in batches }
        try t.train()
        let worst = zip(t.history.map(\.loss), expected).map { abs($0 - $1) / abs($1) }.max() ?? .infinity
        print("vulkan: 50 LoRA steps vs PyTorch, worst relative loss difference \(worst)")
        XCTAssertLessThan(worst, 1e-3)
    }
}
