import IFTCPU
import IFTCore
import IFTData
@testable import IFTModel
@testable import IFTTrain
import IFTVulkan
import XCTest

/// The model families on Vulkan (`Tests/IFTTrainTests/Fixtures/families`, made by
/// `Tools/make-family-fixtures.py`): logits within 1e-4 of transformers through `forward` and the
/// KV-cache decoding path, from the Hugging Face directory and from the GGUF; first-step gradients
/// (full and LoRA) within 1e-5 relative of PyTorch + PEFT; and every training mode (QLoRA too)
/// against cpu-ref on random weights of each family's structure.
final class FamiliesVulkanTests: VulkanTestCase {
    static let root = String(#filePath).split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        + "/IFTTrainTests/Fixtures/families"
    static let families = ["llama3", "qwen2", "qwen3", "mistral", "phi3"]

    func batches(_ dir: String) throws -> [Batch] {
        let json = try JSONValue.parse(contentsOf: dir + "/batches.json")
        return (json["micro_batches"]?.arrayValue ?? []).map { mb in
            let inputs = (mb["input_ids"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue).map(Int32.init) }
            let targets = (mb["targets"]?.arrayValue ?? []).map { ($0.arrayValue ?? []).compactMap(\.intValue).map(Int32.init) }
            return Batch(
                batchSize: inputs.count, length: inputs[0].count, inputs: inputs.flatMap { $0 }, targets: targets.flatMap { $0 },
                lengths: targets.map { row in row.filter { $0 != Batch.ignoreIndex }.count })
        }
    }

    func testLogitsMatchTransformers() throws {
        for name in Self.families {
            let dir = Self.root + "/" + name
            let b = try batches(dir)[0]
            let expected = try SafetensorsFile(path: dir + "/reference/logits.safetensors").floats("logits")
            for path in [dir, dir + "/model.gguf"] {
                let model = try ModelFiles(path: path).loadModel(on: vk)
                let v = model.config.vocabSize, t = b.length
                var worst: Float = 0, worstDecode: Float = 0
                for r in 0..<b.batchSize {
                    let row = Array(b.inputs[r * t..<(r + 1) * t])
                    let theirs = Array(expected[r * t * v..<(r + 1) * t * v])
                    let ours = try vk.floats(try model.forward(row, cache: try model.makeCache()))
                    worst = max(worst, zip(ours, theirs).map { abs($0 - $1) }.max()!)
                    // KV cache: 4 tokens of prefill, then one decoding step at a time.
                    let cache = try model.makeCache()
                    var decoded = try vk.floats(try model.forward(Array(row[0..<4]), cache: cache))
                    for p in 4..<t { decoded += try vk.floats(try model.decodeStep([row[p]], caches: [cache])) }
                    worstDecode = max(worstDecode, zip(decoded, theirs).map { abs($0 - $1) }.max()!)
                }
                print("\(name) \(path.hasSuffix(".gguf") ? "GGUF" : "safetensors") on vulkan: logits max |diff| \(worst), KV-cache decoding \(worstDecode)")
                XCTAssertLessThan(worst, 1e-4, name)
                XCTAssertLessThan(worstDecode, 1e-4, name + " decode")
            }
        }
    }

    func testFirstStepGradientsMatchPyTorch() throws {
        for name in Self.families {
            let dir = Self.root + "/" + name
            let bs = try batches(dir)
            let n = Float(bs.reduce(0) { $0 + $1.learnedTargetCount })
            let trace = try JSONValue.parse(contentsOf: dir + "/trace.json")
            for mode in [TrainingMode.full, .lora] {
                let m = try TrainableLlama(
                    files: try ModelFiles(path: dir), backend: vk, mode: mode,
                    lora: mode == .full ? nil : LoRAConfig(rank: 4, alpha: 8, dropout: 0))
                if mode == .lora {
                    let a = try SafetensorsFile(path: dir + "/lora/adapter_init.safetensors")
                    for p in m.parameters { try m.setParameter(p.name, try a.floats(p.name)) }
                }
                try m.zeroGradients()
                var loss = 0.0
                for b in bs { loss += try m.step(b, lossScale: 1 / n).lossSum }
                loss /= Double(n)
                let expectedLoss = trace[mode == .full ? "loss_full" : "loss_lora"]?.doubleValue ?? .nan
                let grads = try SafetensorsFile(path: dir + (mode == .full ? "/full" : "/lora") + "/step0_grads.safetensors")
                XCTAssertEqual(Set(grads.tensors.map(\.name)), Set(m.parameters.map(\.name)))
                var worst: (Float, String) = (0, "")
                for p in m.parameters {
                    let ours = try vk.floats(p.grad), theirs = try grads.floats(p.name)
                    let scale = theirs.map(abs).max() ?? 0
                    let rel = zip(ours, theirs).map { abs($0 - $1) }.max()! / max(scale, 1e-30)
                    if rel > worst.0 { worst = (rel, p.name) }
                }
                print("\(name) \(mode) on vulkan: loss \(loss) vs PyTorch \(expectedLoss); worst gradient relative difference \(worst.0) (\(worst.1))")
                XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5 * abs(expectedLoss))
                XCTAssertLessThan(worst.0, 1e-5, "\(name) \(mode): \(worst.1)")
            }
        }
    }

    /// Full, LoRA (with dropout) and QLoRA (NF4 base) steps with packed rows on Vulkan against
    /// cpu-ref, for each family's structure at widths of 64; and on Vulkan with activation
    /// checkpointing, bit-identical to without (the kernels are deterministic: no atomics).
    func testEveryModeMatchesReference() throws {
        for family in ModelFamily.allCases {
            let c = LlamaConfig(
                vocabSize: 50, hiddenSize: 64, intermediateSize: 128, layerCount: 2, headCount: 4, kvHeadCount: 2,
                headDim: family == .qwen3 ? 32 : 16, maxPositions: 32, tieWordEmbeddings: family != .qwen2,
                ropeScaling: family == .llama ? .init(type: "yarn", factor: 4, parameters: ["factor": 4, "original_max_position_embeddings": 8]) : nil,
                family: family, qkvBias: family == .qwen2, outputBias: family == .qwen2, qkNorm: family == .qwen3)
            for mode in TrainingMode.allCases {
                var grads: [[Float]] = []
                var losses: [Double] = []
                for (be, checkpointing) in [(ref as any Backend, false), (vk as any Backend, false), (vk as any Backend, true)] {
                    var rng = SeededGenerator(seed: 5)
                    let w = try LlamaWeights.assemble(c, hasLMHead: !c.tieWordEmbeddings) { name, shape, _ in
                        let values = (0..<shape.reduce(1, *)).map { _ in
                            name.huggingFace.hasSuffix("norm.weight") ? 1 + 0.2 * rng.normal() : 0.2 * rng.normal()
                        }
                        return try be.tensor(values, shape: shape)
                    }
                    let m = try TrainableLlama(config: c, weights: w, backend: be, mode: mode, lora: LoRAConfig(rank: 4, alpha: 8, dropout: 0.1), seed: 2)
                    m.checkpointActivations = checkpointing
                    var r2 = SeededGenerator(seed: 8)
                    for p in m.parameters where p.name.contains("lora_B") {
                        try m.setParameter(p.name, (0..<p.value.count).map { _ in 0.1 * r2.normal() })
                    }
                    try m.zeroGradients()
                    var r3 = SeededGenerator(seed: 9)
                    let rows = 2, t = 10, total = rows * t
                    let batch = Batch(
                        batchSize: rows, length: t, inputs: (0..<total).map { _ in Int32(r3.next() % 50) },
                        targets: (0..<total).map { $0 == total - 1 ? Batch.ignoreIndex : Int32(r3.next() % 50) },
                        lengths: [t, t], positions: (0..<total).map { Int32($0 % t >= 5 ? $0 % t - 5 : $0 % t) },
                        segments: (0..<total).map { Int32($0 % t >= 5 ? 1 : 0) })
                    losses.append(try m.step(batch, lossScale: 1 / Float(batch.learnedTargetCount), dropoutSeed: 3).lossSum)
                    grads.append(try m.parameters.flatMap { try be.floats($0.grad) })
                }
                let e = nmse(grads[1], grads[0])
                print("\(family) \(mode): vulkan vs cpu-ref gradients NMSE \(e)")
                XCTAssertLessThan(e, 1e-9, "\(family) \(mode)")
                XCTAssertEqual(losses[1], losses[0], accuracy: 1e-5 * abs(losses[0]))
                let differing = zip(grads[1], grads[2]).filter { $0.bitPattern != $1.bitPattern }.count
                print("\(family) \(mode): vulkan with activation checkpointing, \(differing) of \(grads[1].count) gradient elements differ")
                XCTAssertEqual(differing, 0, "\(family) \(mode) with checkpointing")
                XCTAssertEqual(losses[2].bitPattern, losses[1].bitPattern, "\(family) \(mode) loss with checkpointing")
            }
        }
    }
}
